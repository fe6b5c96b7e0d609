// Owner of the precompiled header that Sinew's test suites share (see tests/CMakeLists.txt).
