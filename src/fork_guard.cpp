#include "fork_guard.h"

#include <pthread.h>

#include <mutex>

#include "host_cache.h"
#include "parallel.h"

namespace glassnet {

namespace {

void before_fork() {
  detail::lock_pool_for_fork();
  host_cache::lock_for_fork();
}

void after_fork_in_parent() {
  host_cache::unlock_after_fork();
  detail::unlock_pool_after_fork(false);
}

void after_fork_in_child() {
  host_cache::unlock_after_fork();
  detail::unlock_pool_after_fork(true);
}

}  // namespace

void ensure_fork_handlers() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child); });
}

}  // namespace glassnet
