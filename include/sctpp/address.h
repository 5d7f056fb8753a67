// IP addresses and (address, port) pairs for the public API: sctpp::IpAddress,
// sctpp::SocketAddress and sctpp::parse_address_list ("ADDR[,ADDR...]:PORT").
//
// The definitions live with the core's utilities for now; this header is the
// public name to include.
#pragma once

#include "util/ip_address.h"
