// What every example's main shares: --device (cpu, cuda or cuda:N) with the check that the device
// can be used, made before any data is read; run_main, which turns an exception into a message
// and exit status 1; and catch_interrupts, for a training loop that saves a checkpoint on Ctrl-C. A
// header of its own so that the small examples take it without the training helpers of
// example_common.hpp.
#pragma once

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <sinew/tensor.hpp>  // Device, Error and empty: no more, for the small examples

namespace sinew::examples {

// --device into `device`: cpu, cuda or cuda:N (Device::parse's forms; anything else is a usage
// error naming the text). Whether that device can be used is select_device's question.
inline void add_device_option(CLI::App& app, std::string& device) {
  app.add_option("--device", device, "where the model trains: cpu, cuda or cuda:N")
      ->check(
          [](const std::string& text) {
            try {
              (void)Device::parse(text);
              return std::string();
            } catch (const Error& e) {
              return std::string(e.what());
            }
          },
          "cpu|cuda|cuda:N")
      ->capture_default_str();
}

// The device --device names, checked before any data is read: a CUDA device in a build without
// the CUDA backend, or where no GPU or driver can be used, raises sinew::Error with the reason
// (run_main prints it).
inline Device select_device(const std::string& text) {
  const Device device = Device::parse(text);
  if (device.is_cuda()) (void)empty<float>({1}, device);
  return device;
}

// fn()'s exit status, or 1 after `program: <what>` on stderr when it throws.
template <class Fn>
int run_main(const char* program, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

namespace detail {
inline volatile std::sig_atomic_t interrupt_flag = 0;
inline void on_interrupt(int signal) {
  interrupt_flag = 1;
  std::signal(signal, SIG_DFL);  // a second Ctrl-C ends the program at once
}
}  // namespace detail

// From now on the first SIGINT (Ctrl-C) or SIGTERM only sets a flag, which the training loop reads
// after each batch (interrupted()) to save a checkpoint and stop; a second one ends the program.
inline void catch_interrupts() {
  std::signal(SIGINT, detail::on_interrupt);
  std::signal(SIGTERM, detail::on_interrupt);
}
inline bool interrupted() { return detail::interrupt_flag != 0; }

// The exit status of a run stopped by SIGINT, as a shell reports one (128 + 2).
inline constexpr int kInterruptedStatus = 130;

}  // namespace sinew::examples
