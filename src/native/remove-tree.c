// removeTree(path[, stop]) -> Promise<void>: rm -r --one-file-system of path
// in one thread-pool job. fs.rm makes a trip per entry; a whiteout of a
// directory, or an opaque one's lower content, removes whole trees while the
// apply waits; a removed snapshot's tree can hold millions of files, and
// spawning rm for it blocks the JS thread for milliseconds. A tree that is not
// there is no error; a mount inside one is (EBUSY), as it is never crossed.
// stop, an Int32Array, ends the walk part way (ECANCELED) once stop[0] is set:
// shutdown must not wait for a whole tree.
#define _GNU_SOURCE
#include <errno.h>
#include <fts.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addon-support.h"
#include "remove-tree.h"

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref stop_ref;
  const int32_t *stop;
  char path[PATH_BUF];
  int err;
  char *failed_path;
  const char *failed_syscall;
} remove_job;

static void fail(remove_job *job, int err, const char *syscall, const char *path) {
  if (job->err != 0) return;
  job->err = err;
  job->failed_syscall = syscall;
  job->failed_path = strdup(path);
}

static void execute(napi_env env, void *arg) {
  (void)env;
  remove_job *job = arg;
  char *roots[] = {job->path, NULL};
  FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
  if (!fts) {
    fail(job, errno, "fts_open", job->path);
    return;
  }
  while (job->err == 0) {
    if (job->stop && __atomic_load_n(job->stop, __ATOMIC_RELAXED) != 0) {
      fail(job, ECANCELED, "removeTree", job->path);
      break;
    }
    errno = 0;
    FTSENT *entry = fts_read(fts);
    if (!entry) {
      if (errno != 0) fail(job, errno, "fts_read", job->path);
      break;
    }
    switch (entry->fts_info) {
      case FTS_D:
        // Removed on the way back up (FTS_DP).
        break;
      case FTS_DP:
        if (rmdir(entry->fts_accpath) != 0 && errno != ENOENT) fail(job, errno, "rmdir", entry->fts_path);
        break;
      case FTS_NS:
        // The root itself may be gone already: nothing to remove.
        if (entry->fts_errno != ENOENT) fail(job, entry->fts_errno, "lstat", entry->fts_path);
        break;
      case FTS_DNR:
      case FTS_ERR:
        fail(job, entry->fts_errno, "fts_read", entry->fts_path);
        break;
      default:
        if (unlink(entry->fts_accpath) != 0 && errno != ENOENT) fail(job, errno, "unlink", entry->fts_path);
        break;
    }
  }
  fts_close(fts);
}

static void complete(napi_env env, napi_status status, void *arg) {
  remove_job *job = arg;
  if (status != napi_ok) fail(job, ECANCELED, "removeTree", job->path);
  if (job->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->err, job->failed_syscall, job->failed_path));
  }
  napi_delete_async_work(env, job->work);
  if (job->stop_ref) napi_delete_reference(env, job->stop_ref);
  free(job->failed_path);
  free(job);
}

#define USAGE "removeTree(path: string | Buffer, stop?: Int32Array)"

// Keeps the array alive for the job, which reads stop[0] from the pool thread.
static bool get_stop_flag(napi_env env, napi_value value, remove_job *job) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_undefined) return true;
  bool is_typedarray = false;
  napi_is_typedarray(env, value, &is_typedarray);
  if (!is_typedarray) return false;
  napi_typedarray_type array_type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, value, &array_type, &length, &data, NULL, NULL) != napi_ok) return false;
  if (array_type != napi_int32_array || length < 1) return false;
  if (napi_create_reference(env, value, 1, &job->stop_ref) != napi_ok) return false;
  job->stop = data;
  return true;
}

static napi_value RemoveTree(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool raw;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  remove_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "removeTree: out of memory");
    return NULL;
  }
  if (argc < 1 || !get_path(env, argv[0], job->path, &raw)) {
    free(job);
    if (argc < 1) napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  if (argc >= 2 && !get_stop_flag(env, argv[1], job)) {
    free(job);
    napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  return queue_job(env, "strata.removeTree", execute, complete, job, &job->work, &job->deferred);
}

void register_remove_tree(napi_env env, napi_value exports) {
  export_function(env, exports, "removeTree", RemoveTree);
}
