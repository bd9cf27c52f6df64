# Starting and stopping `rws sim` from a shell test, without polling: the simulator's first line
# ("listening ws://127.0.0.1:PORT/v1") is read from a pipe, so the read returns the moment it
# listens. Source this file, then:
#   start_sim RWS_BIN [sim flags...]   sets SIM_PID, SIM_PORT, SIM_BASE_URL (http://127.0.0.1:PORT/v1)
#   stop_sim                           kills it and waits for it
# The simulator's later output (its --stats report) goes to $SIM_LOG when that is set.

start_sim() {
    local bin=$1 line
    shift
    exec {SIM_FD}< <(exec "$bin" sim --port 0 "$@" 2>&1)
    SIM_PID=$!
    if ! IFS= read -r -t 60 line <&"$SIM_FD"; then
        echo "rws sim did not start within 60 s" >&2
        return 1
    fi
    SIM_PORT=$(echo "$line" | sed -nE 's|^listening ws://127\.0\.0\.1:([0-9]+)/v1$|\1|p')
    if [ -z "$SIM_PORT" ]; then
        echo "rws sim said '$line' instead of 'listening ws://127.0.0.1:PORT/v1'" >&2
        return 1
    fi
    SIM_BASE_URL=http://127.0.0.1:$SIM_PORT/v1
    # Keep draining what it prints later, so that it can never block on a full pipe.
    cat <&"$SIM_FD" > "${SIM_LOG:-/dev/null}" &
    SIM_DRAIN=$!
    exec {SIM_FD}<&-
}

stop_sim() {
    [ -n "${SIM_PID:-}" ] || return 0
    kill "$SIM_PID" 2>/dev/null
    wait "$SIM_PID" 2>/dev/null
    wait "$SIM_DRAIN" 2>/dev/null
    SIM_PID=
}
