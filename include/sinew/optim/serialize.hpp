// Optimizer state in safetensors files: optim::save(opt, path) / optim::load(opt, path), also
// reachable as io::save / io::load overloads beside the module ones.
//
// The file holds the optimizer's state_dict(): the state tensors ("state.<i>.exp_avg", ...) as F32
// and the metadata "optimizer" and "param_groups" (JSON hyperparameters; LBFGS adds "lbfgs_state").
// Loading into an optimizer of the same type over the same parameters resumes bit for bit.
#pragma once

#include <map>
#include <string>

#include "sinew/io/safetensors.hpp"
#include "sinew/optim/optimizer.hpp"

namespace sinew::optim {

inline void save(const Optimizer& opt, const std::string& path) {
  StateDict sd = opt.state_dict();
  io::save_file(sd.tensors, path, sd.metadata);
}

inline void load(Optimizer& opt, const std::string& path) {
  StateDict sd;
  sd.tensors = io::load_file(path, &sd.metadata);
  opt.load_state_dict(sd);
}

}  // namespace sinew::optim

namespace sinew::io {

inline void save(const optim::Optimizer& opt, const std::string& path) { optim::save(opt, path); }
inline void load(optim::Optimizer& opt, const std::string& path) { optim::load(opt, path); }

}  // namespace sinew::io
