// Fixture of the layering test: an arrow running down.
#include "core/clock.h"
