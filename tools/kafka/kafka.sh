#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for dev, tests and CI,
# run from the official jars on Maven Central (see pom.xml). No Docker, no tarball download.
#
#   kafka.sh install                 fetch jars (Maven) + compile KafkaAdmin helper; cached
#   kafka.sh start                   install if needed, format storage once, start, wait until ready
#   kafka.sh start-secure            the same with KAFKA_SECURITY=sasl_ssl unless KAFKA_SECURITY says sasl
#   kafka.sh create-topics [FILE]    create missing topics listed in FILE, else $KAFKA_TOPICS_FILE, else
#                                    <this dir>/topics.txt; lines "name [partitions [replication]] [k=v ...]"
#                                    (topic configs, also set on existing topics), # comments;
#                                    DEAD_LETTER_RETENTION_MS overrides the dead-letter topic's retention.ms
#   kafka.sh status                  is it running / answering metadata requests (exit 0 = answering)
#   kafka.sh stop                    SIGTERM, wait, SIGKILL after $KAFKA_STOP_TIMEOUT s
#   kafka.sh reset                   stop + wipe the data dir
#   kafka.sh logs [N]                last N lines of the broker log
#   kafka.sh bootstrap               print the bootstrap address (127.0.0.1:$KAFKA_PORT)
#   kafka.sh create-acls [FILE]      add the ACLs listed in FILE (default <this dir>/acls.txt); SASL broker only
#
# KAFKA_SECURITY=sasl (at format time; remembered by the data dir): one SASL_PLAINTEXT listener with
# SCRAM-SHA-512, users created at format time (admin = super user, plus one per service and `upstream`)
# with random development passwords kept in <data dir>/credentials.properties (mode 600, never printed),
# StandardAuthorizer with allow.everyone.if.no.acl.found=false, and the ACLs of acls.txt applied on every
# start. The controller listener authenticates the admin with SASL/PLAIN. KAFKA_SECURITY=sasl_ssl: the same
# over TLS (SASL_SSL), with a development CA and broker certificate (127.0.0.1, localhost) made by openssl
# in <data dir>/tls (clients trust tls/ca.pem). Use its own port and data dir, e.g.
# KAFKA_SECURITY=sasl KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 KAFKA_DATA_DIR=/tmp/kafka-sasl-29092.
#
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (<this dir>/.data),
#      KAFKA_CACHE_DIR (<this dir>/.cache), KAFKA_TOPICS_FILE, KAFKA_START_TIMEOUT (60),
#      KAFKA_STOP_TIMEOUT (30), KAFKA_HEAP_OPTS (-Xmx512m -Xms256m), KAFKA_LOG_LEVEL (INFO),
#      KAFKA_INTERNAL_PARTITIONS (5: partitions of __consumer_offsets & co; a change wipes data),
#      KAFKA_SECURITY (plaintext | sasl | sasl_ssl; default: what the data dir was made with, else plaintext),
#      KAFKA_ACLS_FILE (<this dir>/acls.txt),
#      JAVA_HOME, MVN (maven command, may include extra args; default mvn).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

abspath() { # absolute path without requiring it to exist; relative = relative to cwd
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/pom.xml" | head -n1)"
CACHE_DIR="$(abspath "${KAFKA_CACHE_DIR:-$SCRIPT_DIR/.cache}")"
LIBS_DIR="$CACHE_DIR/libs"
# One folder per version of the helper: worktrees (or branches) with different helpers share one cache
# without recompiling each other's classes under a running command.
CLASSES_DIR="$CACHE_DIR/classes-$(sha256sum <"$SCRIPT_DIR/KafkaAdmin.java" | cut -c1-12)"
MARKER="$CACHE_DIR/installed"
DATA_DIR="$(abspath "${KAFKA_DATA_DIR:-$SCRIPT_DIR/.data}")"
KRAFT_DIR="$DATA_DIR/kraft"
PID_FILE="$DATA_DIR/kafka.pid"
OUT_FILE="$DATA_DIR/kafka.out"
LOG_FILE="$DATA_DIR/server.log"
PROPS_FILE="$DATA_DIR/server.properties"
CLUSTER_ID_FILE="$DATA_DIR/cluster.id"
STATE_FILE="$DATA_DIR/state"
OWNER_MARK="$DATA_DIR/.kafka-sh-data"
SECURITY_FILE="$DATA_DIR/security"
CREDENTIALS_FILE="$DATA_DIR/credentials.properties"
ADMIN_CONFIG="$DATA_DIR/admin.properties"
TLS_DIR="$DATA_DIR/tls"
ACLS_FILE="${KAFKA_ACLS_FILE:-$SCRIPT_DIR/acls.txt}"
SASL_USERS=(admin connection-management segment-extraction field-mapping autopilot-delivery upstream)
SECURITY="${KAFKA_SECURITY:-$(cat "$SECURITY_FILE" 2>/dev/null || echo plaintext)}"
is_sasl() { [[ "$SECURITY" == sasl || "$SECURITY" == sasl_ssl ]]; }
client_protocol() { case "$SECURITY" in sasl) echo SASL_PLAINTEXT ;; sasl_ssl) echo SASL_SSL ;; *) echo PLAINTEXT ;; esac; }

HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
BOOTSTRAP="$HOST:$PORT"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
NODE_ID=1
FORMATTED=0
BROKER_PID=
INTERNAL_PARTITIONS="${KAFKA_INTERNAL_PARTITIONS:-5}" # __consumer_offsets, __transaction_state, __share_group_state

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
JAVAC="${JAVA%java}javac"
read -r -a MVN <<<"${MVN:-mvn}" # may carry extra args, e.g. MVN="mvn -o"

# Short-lived tool JVMs: fast startup matters more than peak performance.
CLI_JVM_OPTS=(-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m
  "-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2-cli.properties")

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { printf '%d.%ds' $(( ($(now_ms) - $1) / 1000 )) $(( ($(now_ms) - $1) % 1000 / 100 )); }

with_lock() { # with_lock FD DIR cmd...: serialise concurrent invocations on DIR (parallel test jobs)
  local fd="$1" lock
  lock="${TMPDIR:-/tmp}/kafka-sh-$(printf '%s' "$2" | sha256sum | cut -c1-16).lock"
  shift 2
  if command -v flock >/dev/null 2>&1; then
    case "$fd" in 8) exec 8>"$lock" ;; *) exec 9>"$lock" ;; esac
    flock "$fd"
  fi
  "$@"
}
install_locked() { with_lock 8 "$CACHE_DIR" do_install; } # fd 8: cache, fd 9: data dir
# For talking to a broker: any installed jars do. Never swaps the jars of a running broker
# after a version bump; only 'start' (with the broker stopped) and 'install' re-fetch.
ensure_helper() { [[ -f "$CLASSES_DIR/KafkaAdmin.class" && -d "$LIBS_DIR" ]] || install_locked; }

# ---------------------------------------------------------------------------------------- install

libs_fingerprint() { # the Kafka version + the pom that resolves the jars
  printf 'kafka=%s pom=%s\n' "$KAFKA_VERSION" "$(sha256sum <"$SCRIPT_DIR/pom.xml" | cut -c1-16)"
}
helper_fingerprint() {
  printf '%s helper=%s\n' "$(libs_fingerprint)" "$(sha256sum <"$SCRIPT_DIR/KafkaAdmin.java" | cut -c1-16)"
}

is_installed() {
  [[ "$(cat "$MARKER" 2>/dev/null || true)" == "$(libs_fingerprint)" ]] \
    && [[ "$(cat "$CLASSES_DIR/fingerprint" 2>/dev/null || true)" == "$(helper_fingerprint)" ]]
}

do_install() {
  if is_installed; then return 0; fi
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 17+; set JAVA_HOME)"
  local t0; t0="$(now_ms)"
  mkdir -p "$CACHE_DIR"
  if [[ "$(cat "$MARKER" 2>/dev/null || true)" != "$(libs_fingerprint)" ]]; then
    command -v "${MVN[0]}" >/dev/null 2>&1 || die "mvn not found (need Maven 3.6+; or set MVN)"
    log "installing Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR"
    rm -rf "$LIBS_DIR" "$CLASSES_DIR" "$MARKER" "$CACHE_DIR/libs.tmp"
    # -q still lets Maven 3.8's jansi print colour resets: keep the output, show it on failure only
    "${MVN[@]}" -q -B -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" \
      "-Dlibs.dir=$CACHE_DIR/libs.tmp" dependency:copy-dependencies >"$CACHE_DIR/mvn.log" 2>&1 \
      || { cat "$CACHE_DIR/mvn.log" >&2; die "maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"; }
    [[ -f "$CACHE_DIR/libs.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] \
      || die "kafka_2.13-$KAFKA_VERSION.jar missing after the maven run"
    mv "$CACHE_DIR/libs.tmp" "$LIBS_DIR"
    libs_fingerprint >"$MARKER"
    log "installed $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1))"
  fi
  command -v "$JAVAC" >/dev/null 2>&1 || die "javac not found (a JDK 17+ is needed to compile KafkaAdmin.java)"
  rm -rf "$CLASSES_DIR"
  mkdir -p "$CLASSES_DIR"
  "$JAVAC" -nowarn -d "$CLASSES_DIR" -cp "$LIBS_DIR/*" "$SCRIPT_DIR/KafkaAdmin.java"
  helper_fingerprint >"$CLASSES_DIR/fingerprint"
  log "install done in $(elapsed "$t0")"
}

admin() { # admin SUBCOMMAND ARGS...: run the KafkaAdmin helper (one JVM)
  local config=()
  if is_sasl; then config=("-Dkafka.admin.config=$ADMIN_CONFIG"); fi
  "$JAVA" "${CLI_JVM_OPTS[@]}" "${config[@]}" -cp "$CLASSES_DIR:$LIBS_DIR/*" KafkaAdmin "$@"
}

# ---------------------------------------------------------------------------------------- helpers

alive() { # a zombie (all threads exited, not yet reaped by whoever adopted it) counts as gone
  kill -0 "$1" 2>/dev/null || return 1
  local state threads
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
  threads="$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null || true)"
  [[ "$state" != Z || "${threads:-1}" -gt 1 ]]
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

broker_pid() { # prints the pid if our broker process is alive, else removes a stale pid file
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

answering() { # one real describeCluster round trip
  port_open "$PORT" && admin probe "$BOOTSTRAP" 5000 >/dev/null 2>&1
}

print_log_tail() {
  local f
  for f in "$LOG_FILE" "$OUT_FILE"; do
    if [[ -s "$f" ]]; then
      log "---- last lines of $f ----"
      tail -n "${1:-40}" "$f" | cut -c1-400 >&2
    fi
  done
}

credential() { sed -n "s/^$1=//p" "$CREDENTIALS_FILE" | head -n1; }

ensure_tls() { # a development CA and a broker certificate for 127.0.0.1/localhost, made once per data dir
  [[ "$SECURITY" == sasl_ssl ]] || return 0
  [[ -s "$TLS_DIR/keystore.pem" && -s "$TLS_DIR/ca.pem" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found (needed for KAFKA_SECURITY=sasl_ssl)"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=kafka.sh development CA"
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=localhost"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 -extfile broker.ext
    cat broker.key broker.pem >keystore.pem
    rm -f ca.key broker.csr broker.ext ca.srl
  ) >"$DATA_DIR/tls.out" 2>&1 || { cat "$DATA_DIR/tls.out" >&2; die "could not make the development certificates"; }
  chmod 644 "$TLS_DIR/ca.pem"
}

ensure_credentials() { # random development passwords, made once per data dir; a new set needs new storage
  is_sasl || return 0
  umask 077
  chmod 700 "$DATA_DIR"
  if [[ ! -s "$CREDENTIALS_FILE" ]]; then
    if [[ -d "$KRAFT_DIR" ]]; then wipe_kraft "new SASL credentials"; fi
    local user
    { printf '# Development-only SCRAM-SHA-512 passwords of this broker (made by kafka.sh; never logged).\n'
      for user in "${SASL_USERS[@]}"; do
        printf '%s=%s\n' "$user" "$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)"
      done
    } >"$CREDENTIALS_FILE.tmp"
    mv "$CREDENTIALS_FILE.tmp" "$CREDENTIALS_FILE"
  fi
  cat >"$ADMIN_CONFIG" <<EOF
security.protocol=$(client_protocol)
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(credential admin)";
EOF
  if [[ "$SECURITY" == sasl_ssl ]]; then
    printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$TLS_DIR/ca.pem" >>"$ADMIN_CONFIG"
  fi
}

write_properties() {
  umask 077 # the SASL variant holds the admin password
  local listeners
  if is_sasl; then
    local pw proto; pw="$(credential admin)"; proto="$(client_protocol)"
    listeners="$(cat <<EOF
listeners=$proto://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=$proto://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,$proto:$proto
inter.broker.listener.name=$proto
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.${proto,,}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$pw";
# SCRAM credentials live in the metadata log, which the controller serves: its listener uses PLAIN.
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$pw" user_admin="$pw";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
EOF
)"
    if [[ "$SECURITY" == sasl_ssl ]]; then
      listeners+="$(printf '\nssl.keystore.type=PEM\nssl.keystore.location=%s\nssl.truststore.type=PEM\nssl.truststore.location=%s' \
        "$TLS_DIR/keystore.pem" "$TLS_DIR/ca.pem")"
    fi
  else
    listeners="$(cat <<EOF
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
)"
  fi
  cat >"$PROPS_FILE" <<EOF
# Generated by tools/kafka/kafka.sh on every start: edits are overwritten.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
$listeners
log.dirs=$KRAFT_DIR

num.partitions=6
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
# After an unclean exit (kill -9) the restarted controller keeps the old broker registration
# alive for broker.session.timeout.ms and refuses the new one (DUPLICATE_BROKER_REGISTRATION):
# the 9 s default becomes a 9 s longer start. In-process heartbeats make a short one safe.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000

# single node: every internal topic with replication factor 1, and few partitions
# (Kafka's default of 50 each only slows down startup and the first group join here)
offsets.topic.num.partitions=$INTERNAL_PARTITIONS
transaction.state.log.num.partitions=$INTERNAL_PARTITIONS
share.coordinator.state.topic.num.partitions=$INTERNAL_PARTITIONS
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

num.network.threads=3
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=1073741824
EOF
}

state_string() { # what the formatted storage depends on; a change wipes the broker state
  local security="" # unchanged for plaintext, so existing data dirs are kept
  if is_sasl; then security=" security=$SECURITY users=$(IFS=,; echo "${SASL_USERS[*]}")"; fi
  printf 'kafka=%s node=%s controller=%s:%s internal-partitions=%s%s\n' \
    "$KAFKA_VERSION" "$NODE_ID" "$HOST" "$CONTROLLER_PORT" "$INTERNAL_PARTITIONS" "$security"
}

meta_value() { sed -n "s/^$1=//p" "$KRAFT_DIR/meta.properties" 2>/dev/null | head -n1; }

wipe_kraft() { log "wiping stale broker state in $KRAFT_DIR ($1)"; rm -rf "$KRAFT_DIR"; }

new_cluster_id() { # base64url of 16 random bytes, like Uuid.randomUuid(); must not start with '-'
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* && "$id" != AAAAAAAAAAAAAAAAAAAAA* ]] && break
  done
  printf '%s\n' "$id"
}

prepare_storage() {
  mkdir -p "$DATA_DIR"
  touch "$OWNER_MARK"
  # Reuse what is there when it is consistent; otherwise start from empty broker state.
  if [[ -f "$KRAFT_DIR/meta.properties" ]]; then
    local meta_cluster; meta_cluster="$(meta_value cluster.id)"
    if [[ ! -s "$CLUSTER_ID_FILE" && -n "$meta_cluster" ]]; then
      printf '%s\n' "$meta_cluster" >"$CLUSTER_ID_FILE"
    fi
    if [[ "$meta_cluster" != "$(cat "$CLUSTER_ID_FILE" 2>/dev/null || true)" ]]; then
      wipe_kraft "cluster id in meta.properties differs"
    elif [[ "$(meta_value node.id)" != "$NODE_ID" ]]; then
      wipe_kraft "node id differs"
    elif [[ "$(cat "$STATE_FILE" 2>/dev/null || true)" != "$(state_string)" ]]; then
      wipe_kraft "formatted for '$(cat "$STATE_FILE" 2>/dev/null || echo unknown)', now '$(state_string)'"
    fi
  elif [[ -d "$KRAFT_DIR" ]] && [[ -n "$(ls -A "$KRAFT_DIR" 2>/dev/null)" ]]; then
    wipe_kraft "no meta.properties"
  fi
  [[ -s "$CLUSTER_ID_FILE" ]] || new_cluster_id >"$CLUSTER_ID_FILE"
  if [[ -f "$KRAFT_DIR/meta.properties" ]]; then return 0; fi

  local cid attempt scram=() user; cid="$(cat "$CLUSTER_ID_FILE")"
  if is_sasl; then
    # Bootstrapped into the metadata log with the storage (KIP-900): no user exists before the first start.
    for user in "${SASL_USERS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(credential "$user")]")
    done
  fi
  for attempt in 1 2; do
    if "$JAVA" "${CLI_JVM_OPTS[@]}" -cp "$LIBS_DIR/*" kafka.tools.StorageTool format \
      --standalone -t "$cid" -c "$PROPS_FILE" --ignore-formatted "${scram[@]}" >"$DATA_DIR/format.out" 2>&1; then
      state_string >"$STATE_FILE"
      FORMATTED=1
      return 0
    fi
    cat "$DATA_DIR/format.out" >&2
    [[ $attempt == 1 ]] && wipe_kraft "format failed"
  done
  die "kafka storage format failed (see above)"
}

# ---------------------------------------------------------------------------------------- commands

launch_broker() { # sets BROKER_PID
  # one log per run (the previous one is kept), so a failure shows this run's lines only
  if [[ -f "$LOG_FILE" ]]; then mv -f "$LOG_FILE" "$LOG_FILE.prev"; fi
  : >"$OUT_FILE"
  # setsid: own session, so the broker outlives the calling shell/test runner's process group.
  # 8>&- 9>&-: do not hand the lock fds to the broker.
  local launcher=(); command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of flags
  nohup "${launcher[@]}" "$JAVA" -server $HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$DATA_DIR" "-Dkafka.log.level=$LOG_LEVEL" \
    "-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2-broker.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS_FILE" \
    </dev/null >"$OUT_FILE" 2>&1 8>&- 9>&- &
  BROKER_PID=$!
  printf '%s\n' "$BROKER_PID" >"$PID_FILE"
  printf '%s\n' "$KAFKA_VERSION" >"$DATA_DIR/kafka.version"
  log "started broker pid $BROKER_PID (Kafka $KAFKA_VERSION, data $DATA_DIR); waiting for $BOOTSTRAP"
}

wait_ready() { # wait_ready PID -> 0 ready, 1 deadline, 2 process exited
  local rc=0
  admin wait "$BOOTSTRAP" "$((START_TIMEOUT * 1000))" "$1" >"$DATA_DIR/wait.out" 2>&1 || rc=$?
  return $rc
}

do_start() {
  local t0 pid rc=0; t0="$(now_ms)"
  if pid="$(broker_pid)"; then
    ensure_helper
    if answering; then
      log "already running (pid $pid) and answering on $BOOTSTRAP"
      local running; running="$(cat "$DATA_DIR/kafka.version" 2>/dev/null || true)"
      [[ "$running" == "$KAFKA_VERSION" ]] \
        || log "WARNING: it runs Kafka ${running:-?}, pom.xml pins $KAFKA_VERSION: run 'kafka.sh stop' then 'start'"
      return 0
    fi
    log "broker pid $pid is up but not answering yet; waiting"
    wait_ready "$pid" || rc=$?
  else
    if port_open "$PORT"; then
      if answering; then
        log "a Kafka broker not started from $DATA_DIR is already answering on $BOOTSTRAP; using it"
        return 0
      fi
      die "port $PORT is in use by something that is not a Kafka broker"
    fi
    port_open "$CONTROLLER_PORT" && die "controller port $CONTROLLER_PORT is already in use"
    install_locked
    mkdir -p "$DATA_DIR"
    case "$SECURITY" in
      plaintext | sasl | sasl_ssl) ;;
      *) die "KAFKA_SECURITY must be plaintext, sasl or sasl_ssl, not '$SECURITY'" ;;
    esac
    # Never turn a broker's data into another kind of broker (the shared PLAINTEXT one above all).
    local made_as
    made_as="$(cat "$SECURITY_FILE" 2>/dev/null || true)"
    [[ -z "$made_as" && -f "$KRAFT_DIR/meta.properties" ]] && made_as=plaintext
    if [[ -n "$made_as" && "$made_as" != "$SECURITY" ]]; then
      die "$DATA_DIR holds a $made_as broker: KAFKA_SECURITY=$SECURITY needs another KAFKA_DATA_DIR (or 'reset' first)"
    fi
    printf '%s\n' "$SECURITY" >"$SECURITY_FILE"
    ensure_credentials
    ensure_tls
    write_properties
    FORMATTED=0
    prepare_storage
    launch_broker
    pid=$BROKER_PID
    wait_ready "$pid" || rc=$?
    # Existing state that Kafka itself refuses (it got as far as logging, then exited):
    # start over from freshly formatted storage, once.
    if [[ $rc == 2 && $FORMATTED == 0 && -s "$LOG_FILE" ]]; then
      print_log_tail 15
      wipe_kraft "the broker exited on startup with the existing state"
      rm -f "$PID_FILE"
      prepare_storage
      launch_broker
      pid=$BROKER_PID
      rc=0
      wait_ready "$pid" || rc=$?
    fi
  fi
  if [[ $rc == 0 ]] && is_sasl; then
    admin create-acls "$BOOTSTRAP" "$ACLS_FILE" >"$DATA_DIR/acls.out" 2>&1 \
      || { cat "$DATA_DIR/acls.out" >&2; die "could not create the ACLs of $ACLS_FILE"; }
  fi
  case $rc in
    0) log "ready on $BOOTSTRAP ($SECURITY) in $(elapsed "$t0"): $(tail -n1 "$DATA_DIR/wait.out")" ;;
    2) print_log_tail 60; rm -f "$PID_FILE"; die "broker process exited during startup" ;;
    *) print_log_tail 60; cat "$DATA_DIR/wait.out" >&2 || true
       log "not answering after ${START_TIMEOUT}s; stopping it"; do_stop >/dev/null 2>&1 || true
       die "broker did not become ready within ${START_TIMEOUT}s" ;;
  esac
}

do_stop() {
  local pid t0; t0="$(now_ms)"
  if ! pid="$(broker_pid)"; then
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(now_ms) + STOP_TIMEOUT * 1000 ))
  while alive "$pid"; do
    if (( $(now_ms) > deadline )); then
      log "still running after ${STOP_TIMEOUT}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local n=0
      while alive "$pid" && (( n++ < 100 )); do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
  rm -f "$PID_FILE"
  log "stopped (pid $pid) in $(elapsed "$t0")"
}

do_status() {
  local pid info=""
  if port_open "$PORT"; then ensure_helper; info="$(admin probe "$BOOTSTRAP" 5000 2>/dev/null)" || info=""; fi
  if pid="$(broker_pid)"; then
    if [[ -n "$info" ]]; then
      echo "running (pid $pid), answering on $BOOTSTRAP: $info"
      return 0
    fi
    echo "running (pid $pid), NOT answering on $BOOTSTRAP"
    return 1
  fi
  if [[ -n "$info" ]]; then
    echo "not started from $DATA_DIR, but a broker answers on $BOOTSTRAP: $info"
    return 0
  fi
  echo "not running"
  return 1
}

do_create_topics() {
  local file="${1:-${KAFKA_TOPICS_FILE:-}}"
  if [[ -z "$file" && -f "$SCRIPT_DIR/topics.txt" ]]; then file="$SCRIPT_DIR/topics.txt"; fi
  [[ -n "$file" ]] || die "usage: kafka.sh create-topics FILE  (or set KAFKA_TOPICS_FILE)"
  [[ -f "$file" ]] || die "topics file not found: $file"
  ensure_helper
  port_open "$PORT" || die "no broker on $BOOTSTRAP; run: $0 start"
  admin create-topics "$BOOTSTRAP" "$file"
}

do_create_acls() {
  is_sasl || die "ACLs need a SASL broker (KAFKA_SECURITY=sasl or sasl_ssl)"
  ensure_helper
  port_open "$PORT" || die "no broker on $BOOTSTRAP; run: KAFKA_SECURITY=sasl $0 start"
  admin create-acls "$BOOTSTRAP" "${1:-$ACLS_FILE}"
}

do_reset() {
  do_stop
  if [[ -d "$DATA_DIR" ]]; then
    if [[ "$DATA_DIR" != "$SCRIPT_DIR/.data" && ! -f "$OWNER_MARK" ]]; then
      die "refusing to wipe $DATA_DIR: not a kafka.sh data dir (no $(basename "$OWNER_MARK"))"
    fi
    rm -rf "$DATA_DIR"
    log "wiped $DATA_DIR"
  fi
}

usage() { sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cmd="${1:-help}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  install) install_locked ;;
  start) with_lock 9 "$DATA_DIR" do_start ;;
  start-secure) [[ "$SECURITY" == sasl ]] || SECURITY=sasl_ssl; with_lock 9 "$DATA_DIR" do_start ;;
  create-acls) do_create_acls "$@" ;;
  stop) with_lock 9 "$DATA_DIR" do_stop ;;
  status) do_status ;;
  reset) with_lock 9 "$DATA_DIR" do_reset ;;
  create-topics) do_create_topics "$@" ;;
  logs) tail -n "${1:-100}" "$LOG_FILE" ;;
  bootstrap) echo "$BOOTSTRAP" ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 64 ;;
esac
