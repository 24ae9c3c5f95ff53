/* SPDX-License-Identifier: MIT */
#ifndef KILN_CONFIG_JSON_H
#define KILN_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "json.h"

/*
 * A configuration from JSON: Firecracker's --config-file format, whose
 * sections are also the bodies of the API's PUT requests, plus kiln's own
 * keys. Every field is checked by name and type; a key kiln does not know
 * is refused by name. Each function changes cfg only when it succeeds,
 * and shares the command line's checks (config_check_*), so the same
 * mistake reads the same. Each returns 0, or -EINVAL (-ENOSPC: too many
 * drives or interfaces; -ENOMEM) with err saying why.
 */

/* "boot-source": kernel_image_path, boot_args, initrd_path. */
int cfgjson_boot_source(struct vm_config *cfg, const struct json_node *o,
			char *err, size_t errlen);
/* "machine-config": vcpu_count, mem_size_mib (both needed unless
 * partial: PATCH), smt, track_dirty_pages, cpu_template, huge_pages. */
int cfgjson_machine(struct vm_config *cfg, const struct json_node *o,
		    bool partial, char *err, size_t errlen);
/*
 * One of "drives": drive_id (must equal id when id is not NULL: the
 * API's path), path_on_host, is_root_device, is_read_only, partuuid,
 * cache_type, io_engine, rate_limiter (null). Replaces the drive with the
 * same id.
 */
int cfgjson_drive(struct vm_config *cfg, const struct json_node *o,
		  const char *id, char *err, size_t errlen);
/*
 * A PATCH /drives/ID body: drive_id (must equal id), path_on_host
 * (optional), rate_limiter (null). Sets *path (NULL when not given),
 * pointing into the document.
 */
int cfgjson_drive_patch(const struct json_node *o, const char *id,
			const char **did, const char **path,
			struct rate_spec *rl, bool *rl_given, char *err,
			size_t errlen);
/*
 * PATCH /network-interfaces/{id}: iface_id (must be id), rx_rate_limiter,
 * tx_rate_limiter; *_given say which were there.
 */
int cfgjson_net_patch(const struct json_node *o, const char *id,
		      struct rate_spec *rx, bool *rx_given,
		      struct rate_spec *tx, bool *tx_given, char *err,
		      size_t errlen);
/* One of "network-interfaces": iface_id, host_dev_name, guest_mac, and
 * kiln's user_net (passt) with port_forwards. Replaces the same id. */
int cfgjson_net(struct vm_config *cfg, const struct json_node *o,
		const char *id, char *err, size_t errlen);
/*
 * PUT /balloon and the config file's "balloon": amount_mib, deflate_on_oom,
 * stats_polling_interval_s (0: none), free_page_reporting. The machine's
 * memory must be set first (the target must fit in it).
 */
int cfgjson_balloon(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen);
/* PATCH /balloon (amount_mib) and PATCH /balloon/statistics. */
int cfgjson_balloon_patch(const struct json_node *o, uint64_t *mib, char *err,
			  size_t errlen);
int cfgjson_balloon_stats_patch(const struct json_node *o, uint64_t *secs,
				char *err, size_t errlen);
/* GET /balloon's object. */
void cfgjson_balloon_out(struct json_out *o, const struct balloon_spec *b);
/* PUT /vsock and the config file's "vsock": guest_cid, uds_path (and the
 * deprecated vsock_id, accepted and ignored). */
int cfgjson_vsock(struct vm_config *cfg, const struct json_node *o, char *err,
		  size_t errlen);
/* PUT /metrics and the config file's "metrics": metrics_path. */
int cfgjson_metrics(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen);
/* "logger": log_path, level, show_level, show_log_origin, module. */
int cfgjson_logger(struct vm_config *cfg, const struct json_node *o, char *err,
		   size_t errlen);
/*
 * kiln's own "run" (PUT /run): run a command in the VM, as kiln run --
 * CMD does: command (an array of strings), rootfs and rootfs_read_only,
 * shares ("HOST[:GUEST][,ro]" each, as --share), env ("NAME=VALUE"), cwd,
 * user ("UID[:GID]"), timeout_s, interactive, console_log. kiln's exit
 * status is then the command's.
 */
int cfgjson_run(struct vm_config *cfg, const struct json_node *o, char *err,
		size_t errlen);
/* "entropy": rate_limiter (null): kiln always has its entropy device. */
int cfgjson_entropy(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen);
/*
 * A whole --config-file (text of len bytes) into cfg, which config_init
 * prepared. Validated as a whole (config_validate) at the end.
 */
int cfgjson_file(struct vm_config *cfg, const char *text, size_t len, char *err,
		 size_t errlen);
/*
 * cfg in the config-file format (what GET /vm/config answers): malloc'ed
 * text, or NULL when out of memory.
 */
char *cfgjson_dump(const struct vm_config *cfg, bool pretty);

/* The "machine-config" object (GET /machine-config, and the dump's). */
void cfgjson_machine_out(struct json_out *o, const struct vm_config *cfg);

/* "Info" -> LOG_INFO + 2 etc. (Firecracker's names, any case); 0 if
 * unknown. */
int cfgjson_log_level(const char *name);

#endif
