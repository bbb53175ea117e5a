//! The one reading of template.yaml the tests share: the template loaded with
//! CloudFormation's tags (`!Ref`, `!Sub` …) in their long form, its resources by type, the
//! functions with the binaries they build, their environments, roles and routes, and a
//! small evaluator of the intrinsic functions (`Ref`, `Sub`, `If`, conditions …) for one
//! set of parameters.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use serde_yaml::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The template with every `!Tag value` turned into `{"Fn::Tag": value}` (`!Ref` →
/// `{"Ref": …}`), the long form CloudFormation itself uses. Read afresh, for a test that
/// changes its copy.
pub fn load() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let value: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    untag(value)
}

/// [`load`], read once for the whole test binary.
pub fn cached() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(load)
}

pub fn untag(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let key = match tag {
                "Ref" | "Condition" => tag.to_owned(),
                other => format!("Fn::{other}"),
            };
            let inner = untag(tagged.value);
            // `!GetAtt A.Arn` is the short form of `Fn::GetAtt: [A, Arn]`.
            let inner = match (&*key, inner) {
                ("Fn::GetAtt", Value::String(s)) => {
                    let (resource, attribute) = s.split_once('.').expect("!GetAtt Res.Attr");
                    Value::Sequence(vec![resource.into(), attribute.into()])
                }
                (_, inner) => inner,
            };
            let mut map = serde_yaml::Mapping::new();
            map.insert(key.into(), inner);
            Value::Mapping(map)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(untag).collect()),
        Value::Mapping(map) => {
            Value::Mapping(map.into_iter().map(|(k, v)| (k, untag(v))).collect())
        }
        other => other,
    }
}

pub fn resources(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

pub fn of_type(t: &Value, ty: &str) -> BTreeMap<String, Value> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

pub fn ref_to(v: &Value) -> Option<&str> {
    v.get("Ref").and_then(Value::as_str)
}

pub fn get_att(v: &Value) -> Option<(&str, &str)> {
    let seq = v.get("Fn::GetAtt")?.as_sequence()?;
    Some((seq.first()?.as_str()?, seq.get(1)?.as_str()?))
}

/// Evaluates the intrinsic functions the template uses, for one set of parameters.
pub struct Evaluator<'a> {
    template: &'a Value,
    pub parameters: HashMap<String, String>,
}

pub const NO_VALUE: &str = "\u{0}AWS::NoValue";

impl<'a> Evaluator<'a> {
    pub fn new(template: &'a Value, given: &[(&str, &str)]) -> Self {
        let mut parameters = HashMap::new();
        for (name, p) in template["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            if let Some(default) = p.get("Default") {
                parameters.insert(name.to_owned(), scalar(default));
            }
        }
        for (k, v) in given {
            assert!(
                template["Parameters"].get(*k).is_some(),
                "the test sets {k}, which template.yaml does not declare"
            );
            parameters.insert((*k).to_owned(), (*v).to_owned());
        }
        for (name, p) in template["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            assert!(
                parameters.contains_key(name),
                "parameter {name} has no value"
            );
            let value = &parameters[name];
            if let Some(allowed) = p.get("AllowedValues").and_then(Value::as_sequence) {
                assert!(
                    allowed.iter().any(|a| scalar(a) == *value),
                    "{name}={value:?} is not one of its AllowedValues"
                );
            }
            if let Some(max) = p.get("MaxLength").and_then(Value::as_u64) {
                assert!(
                    value.chars().count() as u64 <= max,
                    "{name} is longer than its MaxLength {max}"
                );
            }
            if let Some(min) = p.get("MinLength").and_then(Value::as_u64) {
                assert!(
                    value.chars().count() as u64 >= min,
                    "{name} is shorter than its MinLength {min}"
                );
            }
            if let Some(pattern) = p.get("AllowedPattern").and_then(Value::as_str) {
                let re = regex_lite::Regex::new(pattern).expect("a valid AllowedPattern");
                assert!(
                    re.is_match(value),
                    "{name}={value:?} fails its AllowedPattern"
                );
            }
        }
        Self {
            template,
            parameters,
        }
    }

    pub fn condition(&self, name: &str) -> bool {
        let c = &self.template["Conditions"][name];
        assert!(!c.is_null(), "no condition {name}");
        self.truth(c)
    }

    pub fn truth(&self, v: &Value) -> bool {
        if let Some(name) = v.get("Condition").and_then(Value::as_str) {
            return self.condition(name);
        }
        if let Some(args) = v.get("Fn::Equals") {
            return self.eval(&args[0]) == self.eval(&args[1]);
        }
        if let Some(args) = v.get("Fn::Not") {
            return !self.truth(&args[0]);
        }
        if let Some(args) = v.get("Fn::Or") {
            return args.as_sequence().unwrap().iter().any(|a| self.truth(a));
        }
        if let Some(args) = v.get("Fn::And") {
            return args.as_sequence().unwrap().iter().all(|a| self.truth(a));
        }
        panic!("not a condition: {v:?}")
    }

    /// A scalar's value (`NO_VALUE` for `AWS::NoValue`).
    pub fn eval(&self, v: &Value) -> String {
        match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => scalar(v),
            _ => {
                if let Some(name) = ref_to(v) {
                    return match name {
                        "AWS::NoValue" => NO_VALUE.into(),
                        "AWS::Partition" => "aws-cn".into(),
                        "AWS::Region" => "cn-north-1".into(),
                        "AWS::AccountId" => "123456789012".into(),
                        "AWS::StackName" => "wxauth".into(),
                        "AWS::URLSuffix" => "amazonaws.com.cn".into(),
                        p if self.parameters.contains_key(p) => self.parameters[p].clone(),
                        resource => {
                            assert!(
                                self.template["Resources"].get(resource).is_some(),
                                "!Ref to unknown {resource}"
                            );
                            format!("{resource}-physical-id")
                        }
                    };
                }
                if let Some(args) = v.get("Fn::If") {
                    let args = args.as_sequence().unwrap();
                    let branch = if self.condition(args[0].as_str().unwrap()) {
                        &args[1]
                    } else {
                        &args[2]
                    };
                    return self.eval(branch);
                }
                if let Some(args) = v.get("Fn::Select") {
                    let index: usize = self.eval(&args[0]).parse().unwrap();
                    let list = self.list(&args[1]);
                    return list.get(index).cloned().expect("Fn::Select index in range");
                }
                if let Some(args) = v.get("Fn::Sub") {
                    let (text, vars) = match args {
                        Value::String(s) => (s.clone(), HashMap::new()),
                        Value::Sequence(seq) => {
                            let vars = seq[1]
                                .as_mapping()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.as_str().unwrap().to_owned(), self.eval(v)))
                                .collect();
                            (seq[0].as_str().unwrap().to_owned(), vars)
                        }
                        _ => panic!("Fn::Sub {args:?}"),
                    };
                    let mut out = String::new();
                    let mut rest = text.as_str();
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').unwrap() + start;
                        let name = &rest[start + 2..end];
                        let value = match vars.get(name) {
                            Some(v) => v.clone(),
                            None => match name.split_once('.') {
                                Some((res, attr)) => format!("{res}-{attr}"),
                                None => self.eval(&Value::Mapping(
                                    [(Value::from("Ref"), Value::from(name))]
                                        .into_iter()
                                        .collect(),
                                )),
                            },
                        };
                        out.push_str(&value);
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    return out;
                }
                if let Some((resource, attribute)) = get_att(v) {
                    return format!("{resource}-{attribute}");
                }
                panic!("cannot evaluate {v:?}")
            }
        }
    }

    fn list(&self, v: &Value) -> Vec<String> {
        if let Some(args) = v.get("Fn::Split") {
            let sep = self.eval(&args[0]);
            return self
                .eval(&args[1])
                .split(sep.as_str())
                .map(str::to_owned)
                .collect();
        }
        v.as_sequence()
            .unwrap()
            .iter()
            .map(|i| self.eval(i))
            .collect()
    }

    /// A function's environment: Globals, then its own variables; `AWS::NoValue` removes.
    pub fn environment(&self, function: &Value) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for source in [
            &self.template["Globals"]["Function"]["Environment"]["Variables"],
            &function["Properties"]["Environment"]["Variables"],
        ] {
            for (k, v) in source.as_mapping().into_iter().flatten() {
                let value = self.eval(v);
                if value != NO_VALUE {
                    env.insert(k.as_str().unwrap().to_owned(), value);
                }
            }
        }
        env
    }
}

pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// A function property, falling back to Globals.
pub fn property<'a>(t: &'a Value, function: &'a Value, name: &str) -> &'a Value {
    let own = &function["Properties"][name];
    if own.is_null() {
        &t["Globals"]["Function"][name]
    } else {
        own
    }
}

/// `(logical id, binary)` of each function.
pub fn functions(t: &Value) -> BTreeMap<String, String> {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| {
            let binary = f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"))
                .to_owned();
            (id, binary)
        })
        .collect()
}

/// Whether CloudFormation creates `resource` for the evaluator's parameters.
pub fn created(ev: &Evaluator<'_>, resource: &Value) -> bool {
    resource["Condition"]
        .as_str()
        .is_none_or(|condition| ev.condition(condition))
}

/// The functions created for the evaluator's parameters, `(logical id, binary)`.
pub fn created_functions(t: &Value, ev: &Evaluator<'_>) -> BTreeMap<String, String> {
    functions(t)
        .into_iter()
        .filter(|(id, _)| created(ev, &resources(t)[id]))
        .collect()
}

/// The function resource that builds `binary`.
pub fn function_building<'t>(t: &'t Value, binary: &str) -> &'t Value {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"))
}

/// The logical id of a function's role (`Role: !GetAtt SomeRole.Arn`).
pub fn role_of(function: &Value) -> &str {
    let (role, _) = get_att(&function["Properties"]["Role"])
        .unwrap_or_else(|| panic!("Role {:?}", function["Properties"]["Role"]));
    role
}

/// The names of the variables the template may set on `function` (Globals and its own,
/// whatever the parameters).
pub fn variable_names(t: &Value, function: &Value) -> BTreeSet<String> {
    [
        &t["Globals"]["Function"]["Environment"]["Variables"],
        &function["Properties"]["Environment"]["Variables"],
    ]
    .into_iter()
    .flat_map(|v| v.as_mapping().into_iter().flatten())
    .map(|(k, _)| k.as_str().unwrap().to_owned())
    .collect()
}

/// Every route of the API: `"METHOD /path"` → (binary, the condition it exists under).
/// Routes come from the functions' HttpApi events (which SAM creates under the function's
/// condition) and from explicit `AWS::ApiGatewayV2::Route`s (their keys evaluated with
/// `ev`), each through its integration to a function.
pub fn routes(t: &Value, ev: &Evaluator<'_>) -> BTreeMap<String, (String, Option<String>)> {
    let functions = functions(t);
    let mut routes = BTreeMap::new();
    for (id, binary) in &functions {
        let f = &resources(t)[id];
        let condition = f["Condition"].as_str().map(str::to_owned);
        for (_, event) in f["Properties"]["Events"].as_mapping().into_iter().flatten() {
            let key = format!(
                "{} {}",
                event["Properties"]["Method"].as_str().unwrap(),
                event["Properties"]["Path"].as_str().unwrap()
            );
            let previous = routes.insert(key.clone(), (binary.clone(), condition.clone()));
            assert!(previous.is_none(), "{key} twice");
        }
    }
    for (id, route) in of_type(t, "AWS::ApiGatewayV2::Route") {
        let key = ev.eval(&route["Properties"]["RouteKey"]);
        let condition = route["Condition"].as_str().map(str::to_owned);
        let integration = &resources(t)[&integration_of(&id, &route, ev)];
        let (function, _) = get_att(&integration["Properties"]["IntegrationUri"]).unwrap();
        let previous = routes.insert(key.clone(), (functions[function].clone(), condition));
        assert!(previous.is_none(), "{key} twice");
    }
    routes
}

/// The logical id of the integration an explicit route (`id`) targets.
pub fn integration_of(id: &str, route: &Value, ev: &Evaluator<'_>) -> String {
    let target = ev.eval(&route["Properties"]["Target"]);
    target
        .strip_prefix("integrations/")
        .unwrap_or_else(|| panic!("{id}: target {target}"))
        .trim_end_matches("-physical-id")
        .to_owned()
}
