// Small admin helper for tools/kafka/kafka.sh. Compiled by `kafka.sh install`
// into .cache/classes and run against the jars in .cache/libs, so that every
// check is a real Kafka protocol request and a whole job runs in ONE JVM.
//
//   probe  <bootstrap> <timeoutMs>              describeCluster once; exit 0 if it answers
//   wait   <bootstrap> <deadlineMs> [pid]       poll describeCluster until it answers;
//                                               exit 1 on deadline, 2 if pid exits first
//   create-topics <bootstrap> <file>            lines "name partitions [replicationFactor] [key=value ...]";
//                                               creates the missing ones with their configs; on
//                                               existing ones sets the listed configs (e.g. the
//                                               dead-letter topic's retention.ms)
//   create-acls <bootstrap> <file>              lines "principal operation resourceType patternType name"
//                                               (ALLOW from any host); adding an existing ACL is a no-op
//
// -Dkafka.admin.config=<file>: client properties added to every connection (security.protocol,
// sasl.mechanism, sasl.jaas.config for a SASL broker). kafka.sh passes it; no secret on a command line.
//
// No dependencies beyond kafka-clients.

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.errors.TopicExistsException;

public final class KafkaAdmin {

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      usage();
    }
    String cmd = args[0];
    String bootstrap = args[1];
    switch (cmd) {
      case "probe":
        System.exit(probe(bootstrap, Long.parseLong(arg(args, 2, "5000")), true) ? 0 : 1);
        break;
      case "wait":
        System.exit(waitReady(bootstrap, Long.parseLong(arg(args, 2, "60000")), arg(args, 3, null)));
        break;
      case "create-topics":
        System.exit(createTopics(bootstrap, Path.of(arg(args, 2, null))));
        break;
      case "create-acls":
        System.exit(createAcls(bootstrap, Path.of(arg(args, 2, null))));
        break;
      default:
        usage();
    }
  }

  private static void usage() {
    System.err.println("usage: KafkaAdmin probe|wait|create-topics|create-acls <bootstrap> ...");
    System.exit(64);
  }

  private static String arg(String[] args, int i, String dflt) {
    if (args.length > i) {
      return args[i];
    }
    if (dflt == null) {
      usage();
    }
    return dflt;
  }

  private static Admin admin(String bootstrap, int requestTimeoutMs) {
    Properties p = new Properties();
    String config = System.getProperty("kafka.admin.config");
    if (config != null && !config.isEmpty()) {
      try (InputStream in = Files.newInputStream(Path.of(config))) {
        p.load(in);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + config + ": " + e.getMessage(), e);
      }
    }
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-sh-admin");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeoutMs);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Math.max(requestTimeoutMs, 1000));
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 250);
    p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 50);
    p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 250);
    return Admin.create(p);
  }

  /** One real metadata round trip: the cluster must report a controller-registered broker. */
  private static boolean probe(Admin admin, long timeoutMs, boolean print) {
    try {
      DescribeClusterResult r =
          admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeoutMs));
      Collection<Node> nodes = r.nodes().get(timeoutMs, TimeUnit.MILLISECONDS);
      String clusterId = r.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
      if (nodes.isEmpty()) {
        return false;
      }
      if (print) {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes) {
          sb.append(sb.length() == 0 ? "" : ",").append(n.id()).append('@').append(n.host())
              .append(':').append(n.port());
        }
        System.out.println("cluster " + clusterId + " brokers " + sb);
      }
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean probe(String bootstrap, long timeoutMs, boolean print) {
    try (Admin admin = admin(bootstrap, (int) timeoutMs)) {
      return probe(admin, timeoutMs, print);
    }
  }

  private static int waitReady(String bootstrap, long deadlineMs, String pid) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
    Optional<ProcessHandle> proc =
        pid == null || pid.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(pid));
    if (pid != null && !pid.isEmpty() && proc.isEmpty()) {
      return 2;
    }
    try (Admin admin = admin(bootstrap, 2000)) {
      while (true) {
        if (probe(admin, 2000, true)) {
          return 0;
        }
        if (proc.isPresent() && !proc.get().isAlive()) {
          return 2;
        }
        if (System.nanoTime() > deadline) {
          return 1;
        }
        Thread.sleep(100);
      }
    }
  }

  private static int createTopics(String bootstrap, Path file) throws Exception {
    Map<String, NewTopic> wanted = new LinkedHashMap<>();
    int lineNo = 0;
    for (String raw : Files.readAllLines(file)) {
      lineNo++;
      String line = raw.replaceAll("#.*$", "").trim();
      if (line.isEmpty()) {
        continue;
      }
      List<String> f = new ArrayList<>();
      Map<String, String> configs = new LinkedHashMap<>();
      for (String token : line.split("\\s+")) {
        int eq = token.indexOf('=');
        if (eq > 0) {
          configs.put(token.substring(0, eq), token.substring(eq + 1));
        } else {
          f.add(token);
        }
      }
      if (f.isEmpty() || f.size() > 3) {
        System.err.println(file + ":" + lineNo + ": expected 'name [partitions [replication]] [key=value ...]'");
        return 65;
      }
      Optional<Integer> parts;
      Optional<Short> rf;
      try {
        parts = f.size() > 1 ? Optional.of(Integer.parseInt(f.get(1))) : Optional.empty();
        rf = f.size() > 2 ? Optional.of(Short.parseShort(f.get(2))) : Optional.of((short) 1);
      } catch (NumberFormatException e) {
        System.err.println(file + ":" + lineNo + ": not a number in '" + line + "'");
        return 65;
      }
      // The dead letters' retention may be set per environment without editing the generated file.
      String dlqRetention = System.getenv("DEAD_LETTER_RETENTION_MS");
      if (dlqRetention != null && !dlqRetention.isBlank() && f.get(0).contains(".dead-letter.")) {
        configs.put("retention.ms", dlqRetention.trim());
      }
      wanted.put(f.get(0), new NewTopic(f.get(0), parts, rf).configs(configs));
    }
    if (wanted.isEmpty()) {
      System.out.println("no topics in " + file);
      return 0;
    }
    try (Admin admin = admin(bootstrap, 15000)) {
      Set<String> existing =
          admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(30, TimeUnit.SECONDS);
      List<NewTopic> toCreate = new ArrayList<>();
      Map<ConfigResource, Collection<AlterConfigOp>> toAlter = new LinkedHashMap<>();
      for (NewTopic t : wanted.values()) {
        if (existing.contains(t.name())) {
          System.out.println("exists   " + t.name());
          if (t.configs() != null && !t.configs().isEmpty()) {
            List<AlterConfigOp> ops = new ArrayList<>();
            for (Map.Entry<String, String> c : t.configs().entrySet()) {
              ops.add(new AlterConfigOp(new ConfigEntry(c.getKey(), c.getValue()), AlterConfigOp.OpType.SET));
            }
            toAlter.put(new ConfigResource(ConfigResource.Type.TOPIC, t.name()), ops);
          }
        } else {
          toCreate.add(t);
        }
      }
      int rc = 0;
      if (!toAlter.isEmpty()) {
        // Topics created before a config was added to the registry (the dead letters' retention) get it too.
        try {
          admin.incrementalAlterConfigs(toAlter).all().get(30, TimeUnit.SECONDS);
          for (Map.Entry<ConfigResource, Collection<AlterConfigOp>> e : toAlter.entrySet()) {
            StringBuilder set = new StringBuilder();
            for (AlterConfigOp op : e.getValue()) {
              set.append(' ').append(op.configEntry().name()).append('=').append(op.configEntry().value());
            }
            System.out.println("config   " + e.getKey().name() + set);
          }
        } catch (ExecutionException ex) {
          System.err.println("FAILED   setting topic configs: " + ex.getCause());
          rc = 1;
        }
      }
      if (!toCreate.isEmpty()) {
        CreateTopicsResult res = admin.createTopics(toCreate);
        for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : res.values().entrySet()) {
          try {
            e.getValue().get(30, TimeUnit.SECONDS);
            System.out.println("created  " + e.getKey() + " (partitions "
                + res.numPartitions(e.getKey()).get() + ")");
          } catch (ExecutionException ex) {
            if (ex.getCause() instanceof TopicExistsException) {
              System.out.println("exists   " + e.getKey());
            } else {
              System.err.println("FAILED   " + e.getKey() + ": " + ex.getCause());
              rc = 1;
            }
          }
        }
      }
      // Return only once every partition has a leader, so callers can use the topics at once.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        boolean ready = true;
        try {
          Map<String, TopicDescription> d =
              admin.describeTopics(wanted.keySet()).allTopicNames().get(30, TimeUnit.SECONDS);
          for (TopicDescription td : d.values()) {
            for (TopicPartitionInfo pi : td.partitions()) {
              if (pi.leader() == null || pi.leader().isEmpty()) {
                ready = false;
              }
            }
          }
        } catch (ExecutionException notYetVisible) {
          ready = false; // e.g. UnknownTopicOrPartition while metadata propagates
        }
        if (ready) {
          break;
        }
        if (System.nanoTime() > deadline) {
          System.err.println("topics created but not all partitions have a leader after 30 s");
          return 1;
        }
        Thread.sleep(100);
      }
      return rc;
    }
  }

  private static int createAcls(String bootstrap, Path file) throws Exception {
    List<AclBinding> acls = new ArrayList<>();
    int lineNo = 0;
    for (String raw : Files.readAllLines(file)) {
      lineNo++;
      String line = raw.replaceAll("#.*$", "").trim();
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\\s+");
      if (f.length != 5) {
        System.err.println(file + ":" + lineNo
            + ": expected 'principal operation resourceType patternType name'");
        return 65;
      }
      try {
        ResourcePattern resource = new ResourcePattern(ResourceType.fromString(f[2]), f[4],
            PatternType.fromString(f[3]));
        AclOperation operation = AclOperation.fromString(f[1]);
        if (resource.resourceType() == ResourceType.UNKNOWN || resource.patternType() == PatternType.UNKNOWN
            || operation == AclOperation.UNKNOWN || !f[0].startsWith("User:")) {
          throw new IllegalArgumentException("unknown principal, operation, resource or pattern type");
        }
        acls.add(new AclBinding(resource,
            new AccessControlEntry(f[0], "*", operation, AclPermissionType.ALLOW)));
      } catch (IllegalArgumentException e) {
        System.err.println(file + ":" + lineNo + ": " + e.getMessage() + " in '" + line + "'");
        return 65;
      }
    }
    if (acls.isEmpty()) {
      System.out.println("no ACLs in " + file);
      return 0;
    }
    try (Admin admin = admin(bootstrap, 15000)) {
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
      System.out.println("ACLs in place: " + acls.size());
      return 0;
    }
  }
}
