// CLinux is header-only: every wrapper is static inline in CLinux.h.
#include "CLinux.h"
