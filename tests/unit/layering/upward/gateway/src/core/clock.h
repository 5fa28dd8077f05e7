// Fixture of the layering test: an arrow running up.
#include "buffer/queue.h"
