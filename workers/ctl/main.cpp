// glintctl: the operator's command line (status, nodes, image replica maps, jobs, run a worker).
// Exit codes: 0 ok, 1 the job failed, was cancelled or refused, 2 bad usage, 3 database or
// coordinator unreachable,
// 4 not found. See docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

#include "shared/config/config.hpp"
#include "workers/ctl/ctl_commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"glintctl: operate a glint cluster"};
  glint::config::CommandLine cl;
  glint::config::add_standard_flags(app, cl);
  glint::ctl::Args args;
  app.add_flag("--json", args.json, "Machine-readable output");
  app.require_subcommand(1);
  app.add_subcommand("status", "Nodes, images by status, replica health and active jobs");
  app.add_subcommand("nodes", "Storage nodes with state, zone and free space");
  app.add_subcommand("image", "One image and its replica map")->add_option("ID", args.id)->required();
  auto* job = app.add_subcommand("job", "List, show or cancel jobs");
  job->require_subcommand(1);
  job->add_subcommand("list", "Newest jobs")->add_option("--state", args.state, "Only jobs in this state");
  job->add_subcommand("show", "One job")->add_option("ID", args.id)->required();
  job->add_subcommand("cancel", "Cancel a queued or running job")->add_option("ID", args.id)->required();
  auto* run = app.add_subcommand("run", "Ask for a pass of WORKER now (a job) and follow it");
  run->add_option("WORKER", args.worker)->required();
  run->add_option("--node", args.node, "Only this node");
  run->add_option("--image", args.image, "Only this image");
  run->add_flag("--no-wait", args.no_wait, "Print the job id and return");
  auto* repair = app.add_subcommand("repair", "Verify every replica of IMAGE deeply now and repair it (a job)");
  repair->add_option("IMAGE", args.id)->required();
  auto* audit = app.add_subcommand("audit", "Audit one node's replicas now (a job for its auditor)");
  audit->add_option("--node", args.node, "The storage node")->required();
  audit->add_flag("--deep", args.deep, "Re-read every block and recompute os_hash");
  auto* drain = app.add_subcommand("drain", "Copy everything off NODE until it holds nothing");
  drain->add_option("NODE", args.id)->required();
  auto* undrain = app.add_subcommand("undrain", "Give NODE its placement back and rebalance onto it");
  undrain->add_option("NODE", args.id)->required();
  auto* rebalance = app.add_subcommand("rebalance", "Move replicas to where placement wants them now");
  app.add_subcommand("restore", "Undo a delayed delete: pending_delete IMAGE becomes active again (refused once the reaper has claimed it)")
      ->add_option("IMAGE", args.id)
      ->required();
  app.add_subcommand("purge", "Purge the rows of images deleted more than N days ago (their ids stay taken)")
      ->add_option("--age-in-days", args.age_in_days, "Only images deleted at least this many days ago")
      ->check(CLI::NonNegativeNumber);
  auto* cache = app.add_subcommand("cache", "The image caches of every API node");
  cache->require_subcommand(1);
  cache->add_subcommand("list", "Cached, queued and evicting images per API node")
      ->add_option("--node", args.node, "Only this API node");
  cache->add_subcommand("queue", "Queue IMAGE on every API node (their prefetchers fetch it)")
      ->add_option("IMAGE", args.id)
      ->required();
  auto* clear = cache->add_subcommand("clear", "Empty the caches (their prefetchers remove the files) and/or queues");
  clear->add_option("--node", args.node, "Only this API node");
  clear->add_option("--target", args.target, "cache, queue or both (default)");
  cache->add_subcommand("nodes", "The API nodes caching IMAGE")->add_option("IMAGE", args.id)->required();
  std::string key_out;
  app.add_subcommand("keys", "Make a CURVE key pair for the bus: writes FILE (0600) and prints the public key")
      ->add_option("--out", key_out, "Key file to create (never overwritten)")
      ->required();
  for (auto* sub : {repair, audit, drain, undrain, rebalance})
    sub->add_flag("--no-wait", args.no_wait, "Print the job id and return");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (const auto* sub : app.get_subcommands()) {
    args.command = sub->get_name();
    for (const auto* s2 : sub->get_subcommands()) args.command += " " + s2->get_name();
  }
  if (args.command == "keys") return glint::ctl::make_key_file(key_out);
  const glint::config::Config cfg = glint::config::load_or_exit(cl);
  return glint::ctl::run_command(cfg, args);
}
