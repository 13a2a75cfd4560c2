// What the addon's calls share: fs-style errors, thread-pool jobs, exports.
#define _GNU_SOURCE
#include "addon-support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int get_path(napi_env env, napi_value value, char *buf, bool *raw) {
  size_t length;
  napi_is_buffer(env, value, raw);
  if (*raw) {
    void *data;
    napi_get_buffer_info(env, value, &data, &length);
    if (length < PATH_BUF && memchr(data, 0, length) == NULL) {
      memcpy(buf, data, length);
      buf[length] = 0;
      return 1;
    }
  } else if (napi_get_value_string_utf8(env, value, buf, PATH_BUF, &length) == napi_ok && length < PATH_BUF - 1 &&
             strlen(buf) == length) {
    return 1;
  }
  napi_throw_type_error(env, NULL, "expected a path (a string or a Buffer) without NUL, shorter than PATH_MAX");
  return 0;
}

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  // glibc names every errno ("ENAMETOOLONG"), as Node's own errors do.
  const char *code = strerrorname_np(err);
  if (!code) code = "EIO";
  size_t size = strlen(path) + strlen(syscall) + 256;
  char *message = malloc(size);
  if (message) snprintf(message, size, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  napi_value error, code_value, message_value, errno_value, syscall_value, path_value;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message ? message : code, NAPI_AUTO_LENGTH, &message_value);
  free(message);
  napi_create_error(env, code_value, message_value, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_value);
  napi_set_named_property(env, error, "code", code_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_set_named_property(env, error, "path", path_value);
  return error;
}

void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                     napi_async_complete_callback complete, void *job, napi_async_work *work, napi_deferred *deferred) {
  napi_value promise, resource_name;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, job, work);
  napi_queue_async_work(env, *work);
  return promise;
}
