#ifndef STRATA_ADDON_SUPPORT_H
#define STRATA_ADDON_SUPPORT_H
#include <node_api.h>
#include <stdbool.h>

// Paths as Linux takes them: any bytes but NUL, up to PATH_MAX with its NUL.
#define PATH_BUF 4096

// A path argument: a string is UTF-8 text, a Buffer raw bytes (a layer's
// names need not be UTF-8). Copies it, NUL-terminated, into buf[PATH_BUF];
// *raw tells which it was. 0, with a TypeError pending, when it is neither,
// holds a NUL, or is too long.
int get_path(napi_env env, napi_value value, char *buf, bool *raw);

// An Error shaped like Node's fs errors: message "CODE: text, syscall 'path'",
// and code, errno (negative), syscall and path properties.
napi_value errno_error(napi_env env, int err, const char *syscall, const char *path);

// Runs execute on libuv's thread pool, then complete on the JS thread, which
// settles *deferred; returns the promise.
napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                     napi_async_complete_callback complete, void *job, napi_async_work *work, napi_deferred *deferred);

// Sets exports[name] to a function calling cb.
void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb);

#endif
