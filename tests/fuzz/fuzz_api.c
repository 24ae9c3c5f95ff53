// SPDX-License-Identifier: MIT
/*
 * The API as a hostile local client drives it, before the VM starts: the
 * input is the byte stream on one connection. Each request the HTTP
 * parser completes is answered by the API over a configuration that
 * grows with every accepted PUT; every answer must be a status kiln
 * sends with valid JSON (or none), and the configuration must dump as
 * JSON the config-file reader takes back. InstanceStart is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config_json.h"
#include "http.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_parser p;
	struct vm_config cfg;
	struct json_doc doc = { 0 };
	struct api *a;
	size_t off = 0, used;
	char *resp, *dump, err[256];
	int r;

	config_init(&cfg);
	if (http_parser_init(&p, HTTP_API_MAX_BODY))
		return 0;
	a = api_new(NULL, &cfg, "fuzz");
	if (!a)
		abort();
	api_forbid_start(a);
	for (;;) {
		r = http_feed(&p, (const char *)data + off, size - off, &used);
		off += used;
		if (r == HTTP_EXPECT_CONTINUE)
			continue;
		if (r != HTTP_REQUEST_READY)
			break;
		resp = NULL;
		r = api_handle(a, p.req.method_name, p.req.path, p.req.body,
			       p.req.body_len, &resp);
		if (r != 200 && r != 204 && r != 400)
			abort();
		if ((r == 204) != !resp)
			abort();
		if (resp) {
			if (json_parse(resp, strlen(resp), &doc, err,
				       sizeof(err)))
				abort();
			json_free(&doc);
		}
		free(resp);
		http_next(&p);
	}
	dump = cfgjson_dump(&cfg, false);
	if (!dump)
		abort();
	/* What was accepted reads back (when it has a boot source). */
	if (cfg.kernel) {
		struct vm_config back;

		config_init(&back);
		if (cfgjson_file(&back, dump, strlen(dump), err, sizeof(err)) &&
		    !strstr(err, "root device") && !strstr(err, "two drives"))
			abort();
		config_free(&back);
	}
	free(dump);
	api_free(a);
	http_parser_free(&p);
	config_free(&cfg);
	return 0;
}
