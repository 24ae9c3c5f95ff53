// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>

#include "log.h"
#include "unit.h"

void unit_add_suite(const char *name, const CU_TestInfo *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);

	if (!s) {
		fprintf(stderr, "CU_add_suite: %s\n", CU_get_error_msg());
		exit(2);
	}
	for (; tests->pName; tests++)
		if (!CU_add_test(s, tests->pName, tests->pTestFunc)) {
			fprintf(stderr, "CU_add_test: %s\n",
				CU_get_error_msg());
			exit(2);
		}
}

int main(void)
{
	unsigned int failed;

	/* Error paths under test log on purpose; keep the output readable. */
	log_set_level(LOG_QUIET);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite_config();
	suite_arch();
	suite_bus();
	suite_exit();
	suite_uart();
	suite_i8042();
	suite_cmos();
	suite_pl031();
	suite_term();
	suite_virtio();
	suite_net();
	suite_run();
	suite_p9();
	suite_seccomp();
	suite_log();
	suite_boot_timer();
	suite_json();
	suite_http();
	suite_lifecycle();
	suite_api();
	suite_unpack();
	suite_metrics();
	suite_ratelimit();
	suite_vsock();
	suite_balloon();
	suite_oci();
	suite_trim();
	suite_snapfile();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	printf("\nunit: %u passed, %u failed\n",
	       CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	       CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
