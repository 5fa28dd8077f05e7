// SPDX-License-Identifier: Apache-2.0
// Fixture of the layering test: one allowed header of a layer, one not.
#include "buffer/queue.h"
#include "buffer/stats.h"
