# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# private_bus_config LISTEN_ADDRESS SOURCE_DIR [EXTRA_XML]: prints the configuration of a
# private system-type dbus-daemon for the demo and the tests when no system bus runs. Like
# Debian's system.conf (deny own and method calls by default, allow replies and signals) and it
# includes jit's own bus policy from the source tree, so tests run against the real policy.
private_bus_config() {
    local listen=$1 source_dir=$2 extra=${3:-}
    cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>$listen</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
$(printf '    <allow send_requested_reply="true" send_type="%s"/>\n' method_return error)
$(printf '    <allow receive_type="%s"/>\n' method_call method_return error signal)
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
$extra
  <include>$source_dir/dbus/io.jitd.Jit1.conf</include>
</busconfig>
EOF
}
