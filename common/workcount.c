/* The product's ft_work_note: nothing.  Weak, so that the test build of the
 * module, which links workcount_test.c, counts instead (see workcount.h). */
#include <config.h>

#include "workcount.h"

__attribute__((weak)) void
ft_work_note(enum ft_work_kind kind)
{
	(void)kind;
}
