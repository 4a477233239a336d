// The process's fork() handlers for glassnet's own locks (the thread pool's
// and the host block cache's), registered once, in one place, so that they
// are always taken in the same order: the pool first (its job in flight may
// still allocate from the cache), then the cache.
#pragma once

namespace glassnet {

// Registers the handlers with pthread_atfork on the first call; later calls
// do nothing. Called by whatever first creates one of the locks.
void ensure_fork_handlers();

}  // namespace glassnet
