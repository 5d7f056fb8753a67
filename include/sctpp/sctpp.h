// The sctpp C++ API in one include: Stack, Listener, Connection (one-to-one),
// PacketSocket (one-to-many), notifications, Deadline, addresses and the value types
// (InitOptions, SendInfo, ReceiveInfo, Status). The C API is sctpp/sctp.h.
#pragma once

#include "sctpp/address.h"
#include "sctpp/connection.h"
#include "sctpp/deadline.h"
#include "sctpp/listener.h"
#include "sctpp/notification.h"
#include "sctpp/packet_socket.h"
#include "sctpp/stack.h"
#include "sctpp/types.h"
