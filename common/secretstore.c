#include <config.h>

#include "rc.h"
/* TODO: implemented by its issue */
