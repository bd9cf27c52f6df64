/* Nothing to include: CResponsesWSCompat only adds versioned compatibility symbols to the
 * library (see options_init_compat.c). */
