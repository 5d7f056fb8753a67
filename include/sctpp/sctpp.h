// The sctpp C++ API in one include: Stack, Listener, Connection, Deadline,
// addresses and the value types (InitOptions, SendInfo, ReceiveInfo, Status).
#pragma once

#include "sctpp/address.h"
#include "sctpp/connection.h"
#include "sctpp/deadline.h"
#include "sctpp/listener.h"
#include "sctpp/stack.h"
#include "sctpp/types.h"
