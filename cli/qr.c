#include <config.h>
/* TODO */
