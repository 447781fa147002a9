// The command model, read from CLI11's own definitions.
#include "cli/command_model.h"

#include "cli/aliases.h"

namespace kiln::cli {

namespace {

std::vector<FlagDoc> flags_of(const CLI::App& app) {
  std::vector<FlagDoc> out;
  for (const CLI::Option* o : app.get_options()) {
    if (!o->nonpositional() || o->get_group().empty()) continue;  // positionals, hidden options
    FlagDoc f;
    for (const auto& s : o->get_snames()) f.names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) f.names.push_back("--" + l);
    f.takes_value = o->get_items_expected_max() > 0;
    f.help = o->get_description();
    out.push_back(std::move(f));
  }
  return out;
}

CommandDoc command_of(const CLI::App& sub, const std::string& name) {
  CommandDoc c;
  c.name = name;
  c.help = sub.get_description();
  auto* formatter = dynamic_cast<const CLI::Formatter*>(sub.get_formatter().get());
  c.usage = formatter ? formatter->make_usage(&sub, "kiln " + name) : "kiln " + name + " [OPTIONS]";
  if (c.usage.rfind("Usage: ", 0) == 0) c.usage.erase(0, 7);
  while (!c.usage.empty() && (c.usage.back() == '\n' || c.usage.back() == ' ')) c.usage.pop_back();
  for (const CLI::Option* o : sub.get_options())
    if (!o->nonpositional()) c.positionals.push_back(o->get_name());
  c.flags = flags_of(sub);
  return c;
}

}  // namespace

CliDoc describe(const CLI::App& app) {
  CliDoc doc;
  doc.help = app.get_description();
  doc.globals = flags_of(app);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    doc.commands.push_back(command_of(*sub, sub->get_name()));
  for (const auto& a : aliases()) {
    const CLI::App* target = nullptr;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == a.command) target = sub;
    if (!target) continue;
    CommandDoc c = command_of(*target, std::string(a.group) + " " + std::string(a.sub));
    c.alias_of = a.command;
    doc.commands.push_back(std::move(c));
  }
  return doc;
}

}  // namespace kiln::cli
