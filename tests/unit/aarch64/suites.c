// SPDX-License-Identifier: MIT
/* The aarch64 suites: the Image header, the device tree, the GIC layout. */
#include "../unit.h"

void suite_arm64(void);

void suite_arch(void)
{
	suite_arm64();
}
