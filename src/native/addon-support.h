#ifndef STRATA_ADDON_SUPPORT_H
#define STRATA_ADDON_SUPPORT_H
#include <node_api.h>

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
