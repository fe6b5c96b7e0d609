// Optimizer state in safetensors files: optim::save(opt, path) / optim::load(opt, path), also
// reachable as io::save / io::load overloads beside the module ones.
//
// The file holds the optimizer's state_dict(): the state tensors ("state.<i>.exp_avg", ...) in the
// parameters' dtype (F32 for float, F64 for double) and the metadata "optimizer" and
// "param_groups" (JSON hyperparameters; LBFGS adds "lbfgs_state"). Loading into an optimizer of the
// same type over the same parameters resumes bit for bit.
#pragma once

#include <string>

#include "sinew/io/safetensors.hpp"
#include "sinew/optim/optimizer.hpp"

namespace sinew::optim {

template <class T>
void save(const OptimizerT<T>& opt, const std::string& path) {
  StateDictT<T> sd = opt.state_dict();
  io::save_file(sd.tensors, path, sd.metadata);
}

template <class T>
void load(OptimizerT<T>& opt, const std::string& path) {
  StateDictT<T> sd;
  sd.tensors = io::load_file<T>(path, &sd.metadata);
  opt.load_state_dict(sd);
}

}  // namespace sinew::optim

namespace sinew::io {

template <class T>
void save(const optim::OptimizerT<T>& opt, const std::string& path) {
  optim::save(opt, path);
}
template <class T>
void load(optim::OptimizerT<T>& opt, const std::string& path) {
  optim::load(opt, path);
}

}  // namespace sinew::io
