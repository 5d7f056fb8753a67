// The address values live in the public header (every layer and the API share
// them); this name keeps the core's includes short.
#pragma once

#include "sctpp/address.h"
