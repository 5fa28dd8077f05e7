// SPDX-License-Identifier: Apache-2.0
/* The edgegw plugin ABI: how a protocol plugin (a shared object) and the gateway talk.
 *
 * Pure C, so that a plugin can be written in any language and built with any compiler. The rules
 * that keep it compatible (plugins/README.md, gateway/docs/plugin_abi.md):
 *  - Every struct starts with `struct_size` (the sizeof the writer knew) and ends with reserved
 *    pointer fields (always NULL today): a newer writer may add fields; a reader looks only at
 *    fields that lie within the struct_size it was given.
 *  - EDGEGW_PLUGIN_ABI_VERSION is major << 16 | minor. The minor grows when something is added;
 *    the major when anything changes incompatibly. The host refuses a plugin built for another
 *    major, or for a newer minor than its own.
 *  - Error codes are appended, never renumbered.
 *  - Ownership is in the names: a `plugin_ptr` belongs to the plugin, a `host_ptr` to the host;
 *    `edgegw_bytes` are borrowed for the duration of the call only.
 *  - No C++ exception may cross this boundary, in either direction.
 *
 * The life of a plugin:
 *   edgegw_plugin_entry(host_abi) -> the plugin's table (static storage; NULL: cannot work with
 *   this host); per configured source: create() -> start() -> ... -> stop() -> destroy().
 *   destroy() may also follow a create() whose start() failed or was never called.
 *   After stop() returns, the plugin makes no more calls into the host for that instance.
 */
#ifndef EDGEGW_PLUGIN_H_
#define EDGEGW_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Unsigned literals: the version is a uint32_t (major << 16 | minor). */
#define EDGEGW_PLUGIN_ABI_MAJOR 1u
#define EDGEGW_PLUGIN_ABI_MINOR 6u
#define EDGEGW_PLUGIN_ABI_VERSION ((EDGEGW_PLUGIN_ABI_MAJOR << 16) | EDGEGW_PLUGIN_ABI_MINOR)

/* The one symbol a plugin exports. */
#define EDGEGW_PLUGIN_ENTRY_SYMBOL "edgegw_plugin_entry"

/* Error codes (int32_t). Appended, never renumbered. */
#define EDGEGW_OK 0
#define EDGEGW_ERR_INVALID_ARGUMENT 1 /* bad config or arguments; retrying will not help */
#define EDGEGW_ERR_FULL                                                                  \
  2                              /* the buffer (or its disk) is full: do not acknowledge \
                                    upstream, retry later (back-pressure) */
#define EDGEGW_ERR_UNAVAILABLE 3 /* transient: a peer (broker, port) is unreachable */
#define EDGEGW_ERR_IO 4          /* an I/O failure of the local machine */
#define EDGEGW_ERR_INTERNAL 5    /* a bug (an exception caught at the boundary, ...) */
#define EDGEGW_ERR_STOPPED 6     /* the instance is being stopped: nothing was appended */
#define EDGEGW_ERR_UNSUPPORTED 7 /* a feature or version this side does not support */
#define EDGEGW_ERR_DENIED 8      /* since 1.2: a token that names no device */

/* Log levels of edgegw_host.log. */
#define EDGEGW_LOG_TRACE 0
#define EDGEGW_LOG_DEBUG 1
#define EDGEGW_LOG_INFO 2
#define EDGEGW_LOG_WARN 3
#define EDGEGW_LOG_ERROR 4

/* Bytes borrowed for the duration of one call; not NUL-terminated. */
typedef struct edgegw_bytes {
  const char* ptr;
  size_t len;
} edgegw_bytes;

/* One message as received, before decoding (the host decodes it with the source's format). */
typedef struct edgegw_raw_message {
  size_t struct_size;      /* sizeof(edgegw_raw_message) as the plugin knew it */
  edgegw_bytes device_key; /* e.g. the MQTT topic's {device} capture */
  edgegw_bytes variable;   /* for the raw format; empty: the source's `variable:` */
  edgegw_bytes payload;    /* the message's bytes */
  int64_t receive_time_ms; /* UTC ms since the Unix epoch: the time of readings without one */
  void* reserved[4];
} edgegw_raw_message;

/* The host's side of one source instance (opaque to the plugin). */
typedef struct edgegw_host_ctx edgegw_host_ctx;
/* The plugin's side of one source instance (opaque to the host). */
typedef struct edgegw_instance edgegw_instance;

/* Since 1.2: memory the host allocated for a result; the plugin hands it back to
 * edgegw_device_api.free_buffer once done (exactly once; a {NULL, 0} buffer needs no free). */
typedef struct edgegw_host_buffer {
  char* host_ptr;
  size_t len;
} edgegw_host_buffer;

/* Since 1.2: flags of edgegw_device_api.append_checked. ALL_OR_NOTHING: any undecodable payload,
 * invalid reading or unmapped device fails the whole call, and nothing of it is appended. */
#define EDGEGW_APPEND_ALL_OR_NOTHING 1u

/* Since 1.4: what became of one message of edgegw_device_api.append_each. */
typedef struct edgegw_append_outcome {
  size_t struct_size; /* sizeof(edgegw_append_outcome) as the plugin knew it */
  int32_t code;       /* set by the host: EDGEGW_OK, or why nothing of the message was appended */
  size_t readings;    /* set by the host: the message's readings appended */
  char* error;        /* the plugin's room for the reason (written NUL-terminated), or NULL */
  size_t error_size;
  void* reserved[2];
} edgegw_append_outcome;

/* Since 1.2: the host's local Device API, for a plugin that serves the cloud's Device API at the
 * edge (the http source). Device keys are the configured `devices[].key`. Callable from any thread,
 * concurrently, like the other host callbacks. Errors write a NUL-terminated reason into
 * error[0..error_size) when error is not NULL. */
typedef struct edgegw_device_api {
  size_t struct_size;

  /* Maps a device token (the device's cloud `token` or its `local_token`, compared in constant
   * time) to its device key, written into *out_key (free it). EDGEGW_ERR_DENIED: no such token. */
  int32_t (*authenticate)(edgegw_host_ctx* host_ptr, edgegw_bytes token,
                          edgegw_host_buffer* out_key, char* error, size_t error_size);

  /* As edgegw_host.append, with EDGEGW_APPEND_* flags; *out_readings (when not NULL) is set to the
   * number of readings appended. Under EDGEGW_APPEND_ALL_OR_NOTHING a refused payload is
   * EDGEGW_ERR_INVALID_ARGUMENT with the reason (which reading, what is wrong). */
  int32_t (*append_checked)(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                            size_t count, uint32_t flags, size_t* out_readings, char* error,
                            size_t error_size);

  /* GET /data of a device: `query` is the URL's query string (still percent-encoded, no '?': the
   * cloud's filters variable(s), query, qty, skip, start_date, end_date, ordination, details, ...).
   * *out_json is the JSON text of the answer's `result` (an array of records or a number).
   * EDGEGW_ERR_INVALID_ARGUMENT: a bad filter; EDGEGW_ERR_UNSUPPORTED: the history is off. */
  int32_t (*query_data)(edgegw_host_ctx* host_ptr, edgegw_bytes device_key, edgegw_bytes query,
                        edgegw_host_buffer* out_json, char* error, size_t error_size);

  /* DELETE /data of a device: the same filters; removes the matching readings from the local
   * history and, those not yet forwarded, from the buffer's queue. *out_removed: how many. */
  int32_t (*delete_data)(edgegw_host_ctx* host_ptr, edgegw_bytes device_key, edgegw_bytes query,
                         uint64_t* out_removed, char* error, size_t error_size);

  /* GET /info of a device: a JSON object (name, key, buffered readings, last input, ...). */
  int32_t (*device_info)(edgegw_host_ctx* host_ptr, edgegw_bytes device_key,
                         edgegw_host_buffer* out_json, char* error, size_t error_size);

  /* Frees a buffer the host returned, and sets it to {NULL, 0}. */
  void (*free_buffer)(edgegw_host_ctx* host_ptr, edgegw_host_buffer* buffer);

  /* Since 1.4 (NULL from an older host): many requests' messages in one durable write, each of
   * them all or nothing on its own, as append_checked with EDGEGW_APPEND_ALL_OR_NOTHING would take
   * it alone: a message that cannot be taken whole is refused by itself (its outcome says why,
   * EDGEGW_ERR_INVALID_ARGUMENT), and the others are appended together. `outcomes` has `count`
   * elements (element size outcomes[0].struct_size), set whatever is returned. An error returned
   * (EDGEGW_ERR_FULL, _IO, _STOPPED, ...) means nothing was appended, and is every outcome. */
  int32_t (*append_each)(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                         size_t count, edgegw_append_outcome* outcomes, char* error,
                         size_t error_size);

  void* reserved[7];
} edgegw_device_api;

/* Since 1.3: one change to a source's own durable state (see edgegw_source_state). */
typedef struct edgegw_state_change {
  size_t struct_size; /* sizeof(edgegw_state_change) as the plugin knew it */
  edgegw_bytes key;   /* 1 to 64 bytes, any values */
  edgegw_bytes value; /* value.ptr NULL: delete the key */
  void* reserved[2];
} edgegw_state_change;

/* Since 1.3: a source's own durable state: a few small keys and values that the host keeps in its
 * buffer's store, private to the source (by its name), for protocol state that must change in the
 * same durable write as the readings it concerns (an MQTT QoS 2 message and its packet id). It
 * survives exactly what the readings survive (buffer.sync). Callable like edgegw_host.append. */
typedef struct edgegw_source_state {
  size_t struct_size;

  /* As edgegw_host.append, and `changes` (an array whose element size is changes[0].struct_size)
   * applied in order in the same durable write: all of it or nothing. `count` may be 0: a change
   * of state alone, which a full buffer does not refuse (it adds no reading). */
  int32_t (*append_with_state)(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages,
                               size_t count, const edgegw_state_change* changes,
                               size_t change_count, char* error, size_t error_size);

  /* Calls visit(context, key, value) for every key of the source's state, in key order (the
   * bytes are borrowed for that call). */
  int32_t (*load)(edgegw_host_ctx* host_ptr,
                  void (*visit)(void* context, edgegw_bytes key, edgegw_bytes value), void* context,
                  char* error, size_t error_size);

  void* reserved[6];
} edgegw_source_state;

/* Since 1.5: the type of an edgegw_reading's value. Appended, never renumbered. */
#define EDGEGW_VALUE_NUMBER 1  /* `number`: a finite double */
#define EDGEGW_VALUE_INTEGER 2 /* `integer`: exact (a 64-bit counter keeps its last digits) */
#define EDGEGW_VALUE_TEXT 3    /* `text`: UTF-8 */
#define EDGEGW_VALUE_BOOL 4    /* `integer`: 0 false, anything else true */
/* Since 1.6: `number` holds a 32-bit float's value exactly ((double)f, finite). The host keeps it
 * as a float and writes it as that float's shortest text (0.1f as 0.1, not 0.10000000149011612):
 * a plugin reading an f32 register need not print it itself. */
#define EDGEGW_VALUE_FLOAT32 5

/* Since 1.5: one reading a plugin already holds as a value (a register it read, a sample it
 * measured): nothing to encode in the plugin, nothing to decode in the host. The host checks it
 * by the same rules as a decoded one (the variable's name, a finite number, UTF-8 text, the
 * unit's length) and lower-cases the variable. */
typedef struct edgegw_reading {
  size_t struct_size;    /* sizeof(edgegw_reading) as the plugin knew it */
  edgegw_bytes variable; /* the cloud's `variable` */
  int32_t type;          /* EDGEGW_VALUE_* */
  double number;         /* EDGEGW_VALUE_NUMBER and _FLOAT32 */
  int64_t integer;       /* EDGEGW_VALUE_INTEGER and _BOOL */
  edgegw_bytes text;     /* EDGEGW_VALUE_TEXT */
  edgegw_bytes unit;     /* empty: none */
  void* reserved[2];
} edgegw_reading;

/* Since 1.5: readings of one device taken at one moment (one poll of a unit, say). */
typedef struct edgegw_reading_batch {
  size_t struct_size;             /* sizeof(edgegw_reading_batch) as the plugin knew it */
  edgegw_bytes device_key;        /* as edgegw_raw_message.device_key */
  const edgegw_reading* readings; /* `count` elements, element size readings[0].struct_size */
  size_t count;
  int64_t time_ms; /* UTC ms since the Unix epoch: the time of every reading of the batch */
  void* reserved[2];
} edgegw_reading_batch;

/* Callbacks the host gives to create(). Valid until destroy() returns; callable from any thread,
 * concurrently, between create() and the return of stop(). */
typedef struct edgegw_host {
  size_t struct_size;
  uint32_t abi_version;      /* the host's EDGEGW_PLUGIN_ABI_VERSION */
  edgegw_host_ctx* host_ptr; /* passed back to every callback */

  /* Decodes `count` messages (an array whose element size is messages[0].struct_size), maps
   * them to cloud devices and appends the readings to the buffer. Synchronous and durable:
   * EDGEGW_OK means every reading is in the buffer's write-ahead log, so the plugin may now
   * acknowledge upstream. A payload that cannot be decoded (or names an unmapped device) is
   * counted and logged by the host and is NOT an error: acknowledge it, or it would loop.
   * Errors: EDGEGW_ERR_FULL (buffer or disk full: do not acknowledge, retry later),
   * EDGEGW_ERR_IO, EDGEGW_ERR_STOPPED; nothing of the call was appended then. The reason is
   * written, NUL-terminated and truncated, into error[0..error_size) when error is not NULL. */
  int32_t (*append)(edgegw_host_ctx* host_ptr, const edgegw_raw_message* messages, size_t count,
                    char* error, size_t error_size);

  /* One log line (no newline needed) at an EDGEGW_LOG_* level. Never log secrets. */
  void (*log)(edgegw_host_ctx* host_ptr, int32_t level, const char* message, size_t len);

  /* Reports whether the source is connected and receiving (edgegw_source_up): 1 up, 0 down. */
  void (*set_up)(edgegw_host_ctx* host_ptr, int32_t up);

  /* Since 1.2 (NULL from an older host): the local Device API (see edgegw_device_api). */
  const edgegw_device_api* device_api;

  /* Since 1.3 (NULL from an older host): the source's own durable state. */
  const edgegw_source_state* source_state;

  /* Since 1.5 (NULL from an older host): as append, for readings the plugin holds as values
   * (`count` batches, element size batches[0].struct_size): mapped, checked and made durable as
   * append does with decoded ones, in one write. A reading the host refuses (a bad variable name,
   * a non-finite number, an unknown type) is counted and logged, and is not an error. */
  int32_t (*append_readings)(edgegw_host_ctx* host_ptr, const edgegw_reading_batch* batches,
                             size_t count, char* error, size_t error_size);

  void* reserved[5];
} edgegw_host;

/* What create() is told about the source it serves. */
typedef struct edgegw_source_info {
  size_t struct_size;
  edgegw_bytes name;        /* the source's `name:` */
  edgegw_bytes config_json; /* the source's `config:` as a JSON object text ("{}" when absent) */
  /* Since 1.1 (empty from a 1.0 host): a directory of this source's own on the gateway's data
   * disk (<data_dir>/sources/<name>), created by the host and kept across restarts, for state the
   * plugin must not lose (an MQTT client's persistence, say). */
  edgegw_bytes state_dir;
  void* reserved[2];
} edgegw_source_info;

/* The table a plugin returns from edgegw_plugin_entry (static storage, never freed). */
typedef struct edgegw_plugin {
  size_t struct_size;
  uint32_t abi_version; /* the EDGEGW_PLUGIN_ABI_VERSION the plugin was built with */
  const char* name;     /* e.g. "mqtt" (NUL-terminated, static) */
  const char* version;  /* the plugin's own version, e.g. "1.2.0" */

  /* Validates the config and creates an instance; does not start receiving yet. `host` stays
   * valid until destroy(). On failure returns a code, writes why into error (naming the config
   * key, e.g. "topics[0]: ...") and sets nothing. */
  int32_t (*create)(const edgegw_host* host, const edgegw_source_info* source,
                    edgegw_instance** out_plugin_ptr, char* error, size_t error_size);
  /* Starts receiving (may connect in the background: report it with set_up). */
  int32_t (*start)(edgegw_instance* plugin_ptr, char* error, size_t error_size);
  /* Stops receiving. Returns once no host callback is running and none will be made. */
  void (*stop)(edgegw_instance* plugin_ptr);
  /* Frees the instance. */
  void (*destroy)(edgegw_instance* plugin_ptr);

  void* reserved[8];
} edgegw_plugin;

/* The entry point. `host_abi_version` is the host's EDGEGW_PLUGIN_ABI_VERSION; a plugin that
 * cannot work with it returns NULL. */
typedef const edgegw_plugin* (*edgegw_plugin_entry_fn)(uint32_t host_abi_version);

#if defined(__GNUC__)
#define EDGEGW_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define EDGEGW_PLUGIN_EXPORT
#endif

EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDGEGW_PLUGIN_H_ */
