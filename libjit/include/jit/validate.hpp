// SPDX-License-Identifier: Apache-2.0
// Input validation shared by jitd (authoritative) and jitctl (early, friendlier errors).
// Each function throws JitError(InvalidInput) naming what was wrong, or returns normally.
#pragma once

#include <string>
#include <string_view>

namespace jit {

constexpr std::size_t kMaxReasonLength = 1024;
constexpr std::size_t kMaxDescriptionLength = 256;
constexpr std::size_t kMaxCommentLength = 1024;

// Resource and policy names: [a-z0-9][a-z0-9._-]{0,63}. `what` is the kind of object
// ("resource", "policy"); the error reads: invalid resource name "X": ...
void validate_object_name(std::string_view what, std::string_view name);
// A user name as Debian accepts it: [a-z_][a-z0-9_.-]{0,31} with an optional trailing '$'.
void validate_user_name(std::string_view name);
// A group name, same rules as a user name.
void validate_group_name(std::string_view name);
// A member or approver: "user" or "@group".
void validate_principal(std::string_view principal);
// A target account of a resource: a user name or "*".
void validate_account(std::string_view account);
// A PAM service name: [a-z0-9][a-z0-9._-]{0,63}
void validate_service(std::string_view service);
// A service a resource covers: a PAM service name, or "*" for every route (docs/login-decision.md).
void validate_resource_service(std::string_view service);
// A host name as jitd names itself in audit events (JIT_HOST): 1..253 characters, dot-separated
// labels of 1..63 letters, digits and '-', no label starting or ending with '-' (RFC 1123).
void validate_host_name(std::string_view name);
// Reason for a request: 1..1024 characters of printable text (UTF-8, see is_printable_text).
void validate_reason(std::string_view reason);
// Free text (description, comment, revoke reason): 0..limit characters of printable text.
void validate_text(std::string_view what, std::string_view text, std::size_t limit);

// Offset of the first byte of text that is not part of well-formed UTF-8 (control characters
// are well-formed), npos when there is none.
std::size_t first_invalid_utf8(std::string_view text);

// True when text is valid UTF-8 without control characters: C0 (tabs included), DEL, C1, and
// the invisible line separators and bidirectional overrides (U+200E/F, U+2028/9, U+202A-E,
// U+2066-9) that would let one line of audit text display as something else.
bool is_printable_text(std::string_view text);

// `text` in double quotes for an error message: bytes outside printable ASCII, quotes and
// backslashes escaped as \xNN / \" / \\, cut after 64 bytes with "..." appended, so a hostile
// value can neither forge nor flood a log line.
std::string quote_for_message(std::string_view text);

// `text` with every unprintable byte or character replaced by '?', cut (on a character
// boundary) to at most max_bytes: what PAM hands over, made safe to log and to spool.
std::string make_printable(std::string_view text, std::size_t max_bytes);

}  // namespace jit
