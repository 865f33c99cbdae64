// C shims for ccorc: one header per library, each wrapping exactly the calls Swift cannot make
// itself (variadic functions, function-like macros, GNU extensions) with a fixed, nullability-
// annotated signature, so that the Swift side stays type-checked.
#ifndef CSHIMS_H
#define CSHIMS_H

#include "curl_api.h"
#include "curl_shims.h"
#include "jansson_shims.h"
#include "json_projection.h"
#include "sqlite_shims.h"
#include "system_shims.h"

#endif
