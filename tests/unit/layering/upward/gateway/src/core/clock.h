// SPDX-License-Identifier: Apache-2.0
// Fixture of the layering test: an arrow running up.
#include "buffer/queue.h"
