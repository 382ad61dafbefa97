// SPDX-License-Identifier: Apache-2.0
// /proc/PID/stat, whose command name (field 2) any user picks for their own processes: jitd
// reads the parent, terminal and start time past it to find and signal a session's processes.
// Whatever the command name holds, those fields come out as the kernel wrote them.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/sysmacros.h>

#include <cstdint>

#include "fuzz_support.hpp"
#include "process_tree.hpp"

namespace {

using jit::fuzz::require;

constexpr char kStates[] = "RSDZTtXxKWPI";

// The kernel's new_encode_dev(), which /proc prints as tty_nr.
std::uint32_t encode_tty(unsigned int major_number, unsigned int minor_number) {
    return (minor_number & 0xff) | (major_number << 8) | ((minor_number & ~0xffU) << 12);
}

void check_written_line(FuzzedDataProvider& input) {
    const auto pid = input.ConsumeIntegralInRange<pid_t>(1, 4194304);
    const char state = input.PickValueInArray(kStates);
    const auto ppid = input.ConsumeIntegralInRange<pid_t>(0, 4194304);
    const auto major_number = input.ConsumeIntegralInRange<unsigned int>(0, 0xfff);
    const auto minor_number = input.ConsumeIntegralInRange<unsigned int>(0, 0xfffff);
    const auto start_time = input.ConsumeIntegral<std::uint64_t>();
    std::string comm = input.ConsumeRandomLengthString(64);
    std::string line =
        std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid) + " 1 1 " +
        std::to_string(static_cast<std::int32_t>(encode_tty(major_number, minor_number))) +
        " -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " + std::to_string(start_time) + " 1 2 3 4 5\n";
    const auto stat = jitd::parse_proc_stat(line);
    require(stat.has_value(), "a line the kernel could write does not parse: " + line);
    require(stat->state == state && stat->ppid == ppid && stat->start_time == start_time,
            "state, parent or start time misread: " + line);
    require(stat->tty == makedev(major_number, minor_number), "terminal misread: " + line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Past the command name the kernel writes the text: any result will do, but no crash.
    (void)jitd::parse_proc_stat(jit::fuzz::as_text(data, size));
    FuzzedDataProvider input(data, size);
    check_written_line(input);
    return 0;
}
