// diskUsage(root) -> Promise<{ size, inodes }>: continuity's fs.DiskUsage, as
// containerd's snapshotters count a snapshot on Commit: allocated blocks and
// inodes of the tree, each hardlinked inode once. One walk in the thread pool,
// where Node's fs would make two trips per entry and a layer can have 100,000.
#define _GNU_SOURCE
#include <errno.h>
#include <fts.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "disk-usage.h"
#include "addon-support.h"

// The inodes seen with more than one link: an open-addressed hash set.
typedef struct {
  dev_t dev;
  ino_t ino;
} inode_key;

typedef struct {
  inode_key *slots;
  uint8_t *used;
  size_t capacity, count;
} inode_set;

static size_t slot_of(const inode_set *set, inode_key key) {
  uint64_t h = ((uint64_t)key.ino * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)key.dev;
  return (size_t)(h & (set->capacity - 1));
}

static int set_grow(inode_set *set);

// 1 if the key was added, 0 if it was there, -1 when out of memory.
static int set_add(inode_set *set, inode_key key) {
  if ((set->count + 1) * 2 > set->capacity && set_grow(set) != 0) return -1;
  for (size_t i = slot_of(set, key);; i = (i + 1) & (set->capacity - 1)) {
    if (!set->used[i]) {
      set->used[i] = 1;
      set->slots[i] = key;
      set->count++;
      return 1;
    }
    if (set->slots[i].ino == key.ino && set->slots[i].dev == key.dev) return 0;
  }
}

static int set_grow(inode_set *set) {
  inode_set bigger = {0};
  bigger.capacity = set->capacity ? set->capacity * 2 : 1024;
  bigger.slots = malloc(bigger.capacity * sizeof *bigger.slots);
  bigger.used = calloc(bigger.capacity, 1);
  if (!bigger.slots || !bigger.used) {
    free(bigger.slots);
    free(bigger.used);
    return -1;
  }
  for (size_t i = 0; i < set->capacity; i++) {
    if (set->used[i]) set_add(&bigger, set->slots[i]);
  }
  free(set->slots);
  free(set->used);
  *set = bigger;
  return 0;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *root;
  int64_t size, inodes;
  int err;
  char *failed_path;
} usage_job;

static void fail(usage_job *job, int err, const char *path) {
  job->err = err;
  job->failed_path = strdup(path);
}

static void execute(napi_env env, void *arg) {
  (void)env;
  usage_job *job = arg;
  char *roots[] = {job->root, NULL};
  FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
  if (!fts) {
    fail(job, errno, job->root);
    return;
  }
  inode_set seen = {0};
  while (job->err == 0) {
    errno = 0;
    FTSENT *entry = fts_read(fts);
    if (!entry) {
      if (errno != 0) fail(job, errno, job->root);
      break;
    }
    switch (entry->fts_info) {
      case FTS_DP:
        continue;
      case FTS_DNR:
      case FTS_ERR:
      case FTS_NS:
        fail(job, entry->fts_errno, entry->fts_path);
        continue;
      default:
        break;
    }
    const struct stat *st = entry->fts_statp;
    // Only an inode with several links can be met twice.
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
      int added = set_add(&seen, (inode_key){st->st_dev, st->st_ino});
      if (added < 0) fail(job, ENOMEM, entry->fts_path);
      if (added <= 0) continue;
    }
    job->size += (int64_t)st->st_blocks * 512;
    job->inodes++;
  }
  fts_close(fts);
  free(seen.slots);
  free(seen.used);
}

static void complete(napi_env env, napi_status status, void *arg) {
  usage_job *job = arg;
  if (status != napi_ok && job->err == 0) fail(job, ECANCELED, job->root);
  if (job->err == 0) {
    napi_value result, size, inodes;
    napi_create_object(env, &result);
    napi_create_int64(env, job->size, &size);
    napi_create_int64(env, job->inodes, &inodes);
    napi_set_named_property(env, result, "size", size);
    napi_set_named_property(env, result, "inodes", inodes);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->err, "diskUsage", job->failed_path));
  }
  napi_delete_async_work(env, job->work);
  free(job->failed_path);
  free(job->root);
  free(job);
}

static napi_value DiskUsage(napi_env env, napi_callback_info info) {
  size_t argc = 1, length;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "diskUsage(root: string)");
    return NULL;
  }
  usage_job *job = calloc(1, sizeof *job);
  job->root = malloc(length + 1);
  napi_get_value_string_utf8(env, argv[0], job->root, length + 1, &length);
  return queue_job(env, "strata.diskUsage", execute, complete, job, &job->work, &job->deferred);
}

void register_disk_usage(napi_env env, napi_value exports) {
  export_function(env, exports, "diskUsage", DiskUsage);
}
