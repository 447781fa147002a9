// A small evaluator of Go's text/template syntax over JSON values, for --format.
#include "cli/go_template.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ostream>

#include "common/json.h"
#include "common/strings.h"

namespace kiln::cli {

namespace {

using json = nlohmann::json;

struct Token {
  enum Kind { field, ident, string, number, pipe, lparen, rparen } kind;
  std::string text;  ///< field: the chain without the leading dot ("" for "."); string: unquoted
};

struct Operand;
using Pipeline = std::vector<std::vector<Operand>>;  ///< commands joined by |; a command is its operands

struct Operand {
  Token token{Token::string, ""};
  std::shared_ptr<Pipeline> sub;  ///< a parenthesized pipeline
};

}  // namespace

struct TemplateNode {
  enum Kind { literal, action, if_, range, with } kind = literal;
  std::string text;
  Pipeline pipe;
  std::vector<std::unique_ptr<TemplateNode>> body, otherwise;
};

namespace {

std::unique_ptr<TemplateNode> literal_node(const std::string& text) {
  auto n = std::make_unique<TemplateNode>();
  n->text = text;
  return n;
}

Error template_error(const std::string& source, const std::string& what) {
  return make_error(ErrorCode::invalid_argument, "--format \"" + source + "\": " + what);
}

Result<std::vector<Token>> lex(const std::string& a, const std::string& source) {
  std::vector<Token> out;
  size_t i = 0;
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < a.size()) {
    char c = a[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '|') {
      out.push_back({Token::pipe, "|"});
      ++i;
    } else if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Token::lparen : Token::rparen, std::string(1, c)});
      ++i;
    } else if (c == '.') {
      size_t j = i + 1;
      while (j < a.size() && (word_char(a[j]) || a[j] == '.')) ++j;
      out.push_back({Token::field, a.substr(i + 1, j - i - 1)});
      i = j;
    } else if (c == '"' || c == '`') {
      std::string s;
      size_t j = i + 1;
      for (; j < a.size() && a[j] != c; ++j) {
        if (c == '"' && a[j] == '\\' && j + 1 < a.size()) {
          char e = a[++j];
          s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          s += a[j];
        }
      }
      if (j >= a.size()) return template_error(source, "unterminated string");
      out.push_back({Token::string, s});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < a.size() && std::isdigit(static_cast<unsigned char>(a[i + 1])))) {
      size_t j = i + 1;
      while (j < a.size() && (std::isdigit(static_cast<unsigned char>(a[j])) || a[j] == '.')) ++j;
      out.push_back({Token::number, a.substr(i, j - i)});
      i = j;
    } else if (word_char(c)) {
      size_t j = i;
      while (j < a.size() && word_char(a[j])) ++j;
      out.push_back({Token::ident, a.substr(i, j - i)});
      i = j;
    } else if (c == '$') {
      return template_error(source, "template variables ($) are not supported");
    } else {
      return template_error(source, std::string("unexpected \"") + c + "\" in an action");
    }
  }
  return out;
}

Result<Pipeline> parse_pipeline(const std::vector<Token>& t, size_t& i, const std::string& source, bool in_paren) {
  Pipeline p(1);
  for (; i < t.size(); ++i) {
    if (t[i].kind == Token::rparen) {
      if (!in_paren) return template_error(source, "unexpected )");
      break;
    }
    if (t[i].kind == Token::pipe) {
      if (p.back().empty()) return template_error(source, "missing command before |");
      p.emplace_back();
      continue;
    }
    Operand o;
    if (t[i].kind == Token::lparen) {
      ++i;
      o.sub = std::make_shared<Pipeline>(TRY(parse_pipeline(t, i, source, true)));
      if (i >= t.size()) return template_error(source, "unclosed (");
    } else {
      o.token = t[i];
    }
    p.back().push_back(std::move(o));
  }
  if (p.back().empty()) return template_error(source, "empty command");
  return p;
}

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

/// Go's %v of a decoded value.
std::string show(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::null:
      return "<no value>";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case json::value_t::number_float: {
      double d = v.get<double>();
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + show(v[i]);
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, e] : v.items()) {  // nlohmann keeps object keys sorted, as Go prints them
        out += (first ? "" : " ") + k + ":" + show(e);
        first = false;
      }
      return out + "]";
    }
    default:
      return json_text(v);  // invalid UTF-8 in a string becomes U+FFFD, as Go's encoding/json writes it
  }
}

/// printf with %s %v %d %q %% and an optional - and width.
std::string go_printf(const std::string& f, const std::vector<json>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out += f[i];
      continue;
    }
    size_t j = i + 1;
    bool left = false;
    if (f[j] == '-') {
      left = true;
      ++j;
    }
    size_t width = 0;
    bool bad_width = false;  // Go's fmt refuses widths over 10^6 the same way
    for (; j < f.size() && std::isdigit(static_cast<unsigned char>(f[j])); ++j) {
      if (bad_width) continue;
      width = width * 10 + (f[j] - '0');
      if (width > 1000000) {
        bad_width = true;
        width = 0;
      }
    }
    if (j >= f.size()) break;
    char verb = f[j];
    i = j;
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (bad_width) out += "%!(BADWIDTH)";  // then the value, unpadded, as Go goes on
    std::string s = next < args.size() ? show(args[next++]) : "%!" + std::string(1, verb) + "(MISSING)";
    if (verb == 'q') s = json_text(json(s));
    if (s.size() < width) s = left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
    out += s;
  }
  return out;
}

class Evaluator {
 public:
  Evaluator(const std::string& source, bool lenient) : m_source(source), m_lenient(lenient) {}

  Result<json> pipeline(const Pipeline& p, const json& dot) {
    json value;
    bool piped = false;
    for (const auto& cmd : p) {
      value = TRY(command(cmd, dot, piped ? &value : nullptr));
      piped = true;
    }
    return value;
  }

  Status nodes(const std::vector<std::unique_ptr<TemplateNode>>& list, const json& dot, std::string& out) {
    for (const auto& n : list) TRY(node(*n, dot, out));
    return {};
  }

 private:
  Status node(const TemplateNode& n, const json& dot, std::string& out) {
    switch (n.kind) {
      case TemplateNode::literal:
        out += n.text;
        return {};
      case TemplateNode::action:
        out += show(TRY(pipeline(n.pipe, dot)));
        return {};
      case TemplateNode::if_: {
        json v = TRY(pipeline(n.pipe, dot));
        return nodes(truthy(v) ? n.body : n.otherwise, dot, out);
      }
      case TemplateNode::with: {
        json v = TRY(pipeline(n.pipe, dot));
        return truthy(v) ? nodes(n.body, v, out) : nodes(n.otherwise, dot, out);
      }
      case TemplateNode::range: {
        json v = TRY(pipeline(n.pipe, dot));
        if (!truthy(v)) return nodes(n.otherwise, dot, out);
        if (v.is_array() || v.is_object()) {
          for (const auto& e : v) TRY(nodes(n.body, e, out));
          return {};
        }
        return template_error(m_source, "range over " + show(v) + ", which is not a list");
      }
    }
    return {};
  }

  Result<json> field(const std::string& chain, const json& dot) {
    json v = dot;
    size_t at = 0;
    for (int depth = 0; at < chain.size(); ++depth) {
      size_t end = chain.find('.', at);
      std::string name = chain.substr(at, end == std::string::npos ? std::string::npos : end - at);
      at = end == std::string::npos ? chain.size() : end + 1;
      if (v.is_null()) return json();
      if (v.is_object() && v.contains(name)) {
        v = v[name];
        continue;
      }
      if (m_lenient) return json("");
      // A field the listed object lacks is an error (a misspelt column, as docker's struct fields make it); one
      // an object below it lacks is "<no value>": kiln's JSON leaves out what is empty (Go's map rule).
      if (v.is_object() && depth > 0) return json();
      std::string known;
      if (v.is_object())
        for (const auto& [k, e] : v.items()) known += (known.empty() ? "" : ", ") + k;
      return template_error(m_source,
                            "can't evaluate field " + name + (known.empty() ? "" : " (fields here: " + known + ")"));
    }
    return v;
  }

  Result<json> operand(const Operand& o, const json& dot) {
    if (o.sub) return pipeline(*o.sub, dot);
    switch (o.token.kind) {
      case Token::field:
        return field(o.token.text, dot);
      case Token::string:
        return json(o.token.text);
      case Token::number: {
        if (o.token.text.find('.') != std::string::npos) {  // from_chars: a number out of range never throws
          double d = 0;
          std::from_chars(o.token.text.data(), o.token.text.data() + o.token.text.size(), d);
          return json(d);
        }
        int64_t n = 0;
        std::from_chars(o.token.text.data(), o.token.text.data() + o.token.text.size(), n);
        return json(n);
      }
      case Token::ident:
        if (o.token.text == "true" || o.token.text == "false") return json(o.token.text == "true");
        if (o.token.text == "nil") return json();
        return call(o.token.text, {});
      default:
        return template_error(m_source, "unexpected " + o.token.text);
    }
  }

  Result<json> command(const std::vector<Operand>& cmd, const json& dot, const json* piped) {
    const Operand& head = cmd[0];
    bool is_function = !head.sub && head.token.kind == Token::ident && head.token.text != "true" &&
                       head.token.text != "false" && head.token.text != "nil";
    if (!is_function) {
      if (cmd.size() > 1 || piped) return template_error(m_source, "only a function takes arguments");
      return operand(head, dot);
    }
    std::vector<json> args;
    for (size_t i = 1; i < cmd.size(); ++i) args.push_back(TRY(operand(cmd[i], dot)));
    if (piped) args.push_back(*piped);
    return call(head.token.text, args);
  }

  Result<json> call(const std::string& f, const std::vector<json>& a) {
    auto need = [&](size_t n) -> Status {
      if (a.size() < n) return template_error(m_source, f + " needs " + std::to_string(n) + " argument(s)");
      return {};
    };
    if (f == "json") {
      TRY(need(1));
      return json(json_text(a[0]));
    }
    if (f == "join") {
      TRY(need(2));
      std::string out;
      if (a[0].is_array())
        for (size_t i = 0; i < a[0].size(); ++i) out += (i ? show(a[1]) : "") + show(a[0][i]);
      return json(out);
    }
    if (f == "split") {
      TRY(need(2));
      json out = json::array();
      std::string s = show(a[0]), sep = show(a[1]);
      for (size_t at = 0;;) {
        size_t e = sep.empty() ? std::string::npos : s.find(sep, at);
        out.push_back(s.substr(at, e == std::string::npos ? std::string::npos : e - at));
        if (e == std::string::npos) break;
        at = e + sep.size();
      }
      return out;
    }
    if (f == "lower" || f == "upper" || f == "title") {
      TRY(need(1));
      std::string s = show(a[0]);
      bool start = true;
      for (auto& c : s) {
        auto u = static_cast<unsigned char>(c);
        c = static_cast<char>(f == "lower"   ? std::tolower(u)
                              : f == "upper" ? std::toupper(u)
                              : start        ? std::toupper(u)
                                             : c);
        start = std::isspace(u) != 0;
      }
      return json(s);
    }
    if (f == "truncate") {
      TRY(need(2));
      std::string s = show(a[0]);
      size_t n = a[1].is_number() ? a[1].get<size_t>() : s.size();
      return json(s.size() > n ? s.substr(0, n) : s);
    }
    if (f == "len") {
      TRY(need(1));
      return json(a[0].is_string() ? a[0].get<std::string>().size() : a[0].size());
    }
    if (f == "index") {
      TRY(need(2));
      json v = a[0];
      for (size_t i = 1; i < a.size(); ++i) {
        if (v.is_array() && a[i].is_number_integer() && a[i].get<int64_t>() >= 0 &&
            static_cast<size_t>(a[i].get<int64_t>()) < v.size())
          v = v[static_cast<size_t>(a[i].get<int64_t>())];
        else if (v.is_object() && a[i].is_string() && v.contains(a[i].get<std::string>()))
          v = v[a[i].get<std::string>()];
        else if (v.is_object())
          v = json();  // a missing map key is the zero value, as Go's index gives it
        else
          return template_error(m_source, "index " + show(a[i]) + " out of range");
      }
      return v;
    }
    if (f == "print" || f == "println") {
      std::string out;
      for (size_t i = 0; i < a.size(); ++i) {
        bool space = f == "println" || (i > 0 && !a[i].is_string() && !a[i - 1].is_string());
        out += (i > 0 && space ? " " : "") + show(a[i]);
      }
      return json(f == "println" ? out + "\n" : out);
    }
    if (f == "printf") {
      TRY(need(1));
      return json(go_printf(show(a[0]), std::vector<json>(a.begin() + 1, a.end())));
    }
    if (f == "eq" || f == "ne") {
      TRY(need(2));
      bool eq = false;
      for (size_t i = 1; i < a.size(); ++i) eq = eq || a[0] == a[i];
      return json(f == "eq" ? eq : !eq);
    }
    if (f == "not") {
      TRY(need(1));
      return json(!truthy(a[0]));
    }
    if (f == "and" || f == "or") {
      TRY(need(1));
      for (const auto& v : a)
        if (truthy(v) == (f == "or")) return v;
      return a.back();
    }
    return template_error(m_source, "function \"" + f + "\" not defined");
  }

  std::string m_source;
  bool m_lenient;
};

}  // namespace

GoTemplate::GoTemplate() = default;
GoTemplate::~GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;

Result<GoTemplate> GoTemplate::parse(const std::string& format) {
  GoTemplate t;
  t.m_source = format;
  std::string f = format;
  // docker: a leading "table" asks for the header and columns; \t and \n written out are a tab and a newline.
  size_t lead = f.find_first_not_of(' ');
  if (lead != std::string::npos && f.compare(lead, 5, "table") == 0) {
    t.m_table = true;
    f = f.substr(lead + 5);
    f.erase(0, f.find_first_not_of(' ') == std::string::npos ? f.size() : f.find_first_not_of(' '));
  }
  std::string unescaped;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      unescaped += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      unescaped += f[i];
    }
  }
  f = unescaped;
  // Parse into nodes; blocks nest on a stack of (node, in its else part).
  struct Open {
    TemplateNode* node;
    bool in_else;
  };
  std::vector<Open> open;
  auto sink = [&]() -> std::vector<std::unique_ptr<TemplateNode>>& {
    if (open.empty()) return t.m_nodes;
    return open.back().in_else ? open.back().node->otherwise : open.back().node->body;
  };
  size_t at = 0;
  while (at < f.size()) {
    size_t start = f.find("{{", at);
    std::string text = f.substr(at, start == std::string::npos ? std::string::npos : start - at);
    if (start == std::string::npos) {
      if (!text.empty()) sink().push_back(literal_node(text));
      break;
    }
    // "{{- " trims; "{{-3}}" is the number -3 (Go wants the space).
    bool trim_left =
        start + 3 < f.size() && f[start + 2] == '-' && std::isspace(static_cast<unsigned char>(f[start + 3]));
    if (trim_left)
      text.erase(text.find_last_not_of(" \t\r\n") == std::string::npos ? 0 : text.find_last_not_of(" \t\r\n") + 1);
    if (!text.empty()) sink().push_back(literal_node(text));
    size_t body = start + (trim_left ? 3 : 2);
    size_t end = body;
    for (char quote = 0; end < f.size(); ++end) {  // "}}" inside a string does not end the action
      if (quote) {
        if (f[end] == '\\' && quote == '"')
          ++end;
        else if (f[end] == quote)
          quote = 0;
      } else if (f[end] == '"' || f[end] == '`') {
        quote = f[end];
      } else if (f.compare(end, 2, "}}") == 0) {
        break;
      }
    }
    if (end >= f.size()) return template_error(format, "unclosed action (a {{ without its }})");
    bool trim_right =
        end > body && f[end - 1] == '-' && (end - 1 == body || std::isspace(static_cast<unsigned char>(f[end - 2])));
    std::string action = f.substr(body, end - body - (trim_right ? 1 : 0));
    at = end + 2;
    if (trim_right)
      at = std::min(f.size(), f.find_first_not_of(" \t\r\n", at) == std::string::npos
                                  ? f.size()
                                  : f.find_first_not_of(" \t\r\n", at));
    size_t a0 = action.find_first_not_of(" \t");
    if (a0 != std::string::npos && action.compare(a0, 2, "/*") == 0) continue;  // a comment
    auto tokens = TRY(lex(action, format));
    if (tokens.empty()) return template_error(format, "empty action {{}}");
    const std::string& kw = tokens[0].kind == Token::ident ? tokens[0].text : "";
    if (kw == "end") {
      if (open.empty()) return template_error(format, "{{end}} without {{if}}, {{range}} or {{with}}");
      open.pop_back();
      continue;
    }
    if (kw == "else") {
      if (open.empty() || open.back().in_else) return template_error(format, "{{else}} out of place");
      open.back().in_else = true;
      if (tokens.size() > 1) return template_error(format, "{{else if}} is not supported: nest an {{if}}");
      continue;
    }
    size_t i = (kw == "if" || kw == "range" || kw == "with") ? 1 : 0;
    if (i == 1 && tokens.size() == 1) return template_error(format, "{{" + kw + "}} needs a value");
    auto node = std::make_unique<TemplateNode>();
    node->pipe = TRY(parse_pipeline(tokens, i, format, false));
    node->kind = kw == "if"      ? TemplateNode::if_
                 : kw == "range" ? TemplateNode::range
                 : kw == "with"  ? TemplateNode::with
                                 : TemplateNode::action;
    TemplateNode* raw = node.get();
    sink().push_back(std::move(node));
    if (raw->kind != TemplateNode::action) open.push_back({raw, false});
  }
  if (!open.empty()) return template_error(format, "missing {{end}}");
  return t;
}

Result<std::string> GoTemplate::render(const nlohmann::json& dot, bool lenient) const {
  Evaluator e(m_source, lenient);
  std::string out;
  TRY(e.nodes(m_nodes, dot, out));
  return out;
}

std::string tabwrite(const std::vector<std::vector<std::string>>& rows) {
  auto width_of = [](const std::string& s) {  // characters, not bytes
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xc0) != 0x80;
    return n;
  };
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t c = 0; c + 1 < r.size(); ++c) {
      if (widths.size() <= c) widths.push_back(10);
      widths[c] = std::max(widths[c], width_of(r[c]) + 3);
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c)
      line += c + 1 == r.size() ? r[c] : r[c] + std::string(widths[c] - width_of(r[c]), ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

Status print_formatted(const std::string& format, const std::vector<nlohmann::json>& objects,
                       const nlohmann::json& headers, std::ostream& out) {
  auto t = TRY(GoTemplate::parse(format));
  std::vector<std::string> texts;
  if (t.table()) texts.push_back(TRY(t.render(headers, true)));  // the header: the template over the titles
  for (const auto& o : objects) texts.push_back(TRY(t.render(o)));
  if (!t.table()) {
    for (const auto& s : texts) out << s << "\n";
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : texts)  // a row may hold several lines
    for (const auto& line : split(s, '\n')) rows.push_back(split(line, '\t'));
  out << tabwrite(rows);
  return {};
}

}  // namespace kiln::cli
