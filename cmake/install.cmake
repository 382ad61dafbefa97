# SPDX-License-Identifier: Apache-2.0
# Installs what makes jit a system component: the systemd unit, sysusers and journal catalog,
# the D-Bus policy and activation file, the default configuration, the pam-auth-update profile
# and the man pages. Binaries install from their own directories (jitd, jitctl, pam_jit).
#
# System directories come from systemd's pkg-config file, as on the build host (Debian 12:
# /lib/systemd/system, /usr/lib/sysusers.d, /usr/lib/systemd/catalog); each is a cache
# variable so a packager can point it elsewhere.

pkg_check_modules(SYSTEMD_DIRS REQUIRED systemd)
pkg_get_variable(_jit_unit_dir systemd systemdsystemunitdir)
pkg_get_variable(_jit_sysusers_dir systemd sysusersdir)
pkg_get_variable(_jit_catalog_dir systemd catalogdir)
pkg_get_variable(_jit_tmpfiles_dir systemd tmpfilesdir)
set(JIT_SYSTEMD_UNIT_DIR "${_jit_unit_dir}" CACHE PATH "Install directory for jitd.service")
set(JIT_SYSUSERS_DIR "${_jit_sysusers_dir}" CACHE PATH "Install directory for sysusers.d files")
set(JIT_CATALOG_DIR "${_jit_catalog_dir}" CACHE PATH "Install directory for journal catalogs")
set(JIT_TMPFILES_DIR "${_jit_tmpfiles_dir}" CACHE PATH "Install directory for tmpfiles.d files")
set(JIT_DBUS_SYSTEM_POLICY_DIR "${CMAKE_INSTALL_DATADIR}/dbus-1/system.d"
    CACHE PATH "Install directory for the D-Bus system bus policy")
set(JIT_DBUS_SYSTEM_SERVICES_DIR "${CMAKE_INSTALL_DATADIR}/dbus-1/system-services"
    CACHE PATH "Install directory for D-Bus system service activation files")

# The journal catalog must explain exactly the MESSAGE_IDs jitd sends: the build fails when
# systemd/jitd.catalog and the audit event table (libjit/include/jit/audit_events.hpp) disagree.
set(_jit_catalog ${PROJECT_SOURCE_DIR}/systemd/jitd.catalog)
set(_jit_message_ids ${PROJECT_SOURCE_DIR}/libjit/include/jit/audit_events.hpp)
set(_jit_catalog_stamp ${PROJECT_BINARY_DIR}/jitd.catalog.checked)
add_custom_command(
  OUTPUT ${_jit_catalog_stamp}
  COMMAND ${CMAKE_COMMAND} -DCATALOG=${_jit_catalog} -DMESSAGE_IDS=${_jit_message_ids}
          -DSTAMP=${_jit_catalog_stamp} -P ${CMAKE_CURRENT_LIST_DIR}/check_catalog.cmake
  DEPENDS ${_jit_catalog} ${_jit_message_ids} ${CMAKE_CURRENT_LIST_DIR}/check_catalog.cmake
  COMMENT "Checking that jitd.catalog explains every audit MESSAGE_ID"
  VERBATIM)
add_custom_target(jitd_catalog_check ALL DEPENDS ${_jit_catalog_stamp})

install(FILES systemd/jitd.service DESTINATION ${JIT_SYSTEMD_UNIT_DIR})
install(FILES systemd/jitd.sysusers DESTINATION ${JIT_SYSUSERS_DIR} RENAME jitd.conf)
install(FILES systemd/jitd.tmpfiles DESTINATION ${JIT_TMPFILES_DIR} RENAME jitd.conf)
install(FILES ${_jit_catalog} DESTINATION ${JIT_CATALOG_DIR})
install(FILES dbus/io.jitd.Jit1.conf DESTINATION ${JIT_DBUS_SYSTEM_POLICY_DIR})
install(FILES dbus/io.jitd.Jit1.service DESTINATION ${JIT_DBUS_SYSTEM_SERVICES_DIR})
install(FILES etc/jitd.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/jit)
# The sshd line for jitd's authorized keys files, commented out: the admin turns it on.
install(FILES etc/sshd_config.d/jit.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ssh/sshd_config.d)
install(FILES pam-configs/jit DESTINATION ${CMAKE_INSTALL_DATADIR}/pam-configs)
install(FILES man/jitctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES man/jitd.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES man/jitd.8 man/pam_jit.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
