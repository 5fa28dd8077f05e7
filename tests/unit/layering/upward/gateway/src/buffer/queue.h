// SPDX-License-Identifier: Apache-2.0
// Fixture of the layering test: an arrow running down.
#include "core/clock.h"
