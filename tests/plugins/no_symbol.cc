// A shared library that is not a ktmsim plugin: no ktmsim_plugin_register
// (tests/sdk_tests.cmake: --plugin refuses it).
extern "C" int not_a_ktmsim_plugin() { return 0; }
