#ifndef BULWARK_CYAML_SHIM_H
#define BULWARK_CYAML_SHIM_H
#include <yaml.h>
#endif
