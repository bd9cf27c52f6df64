#include "responses_ws.h"
