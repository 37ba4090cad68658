//! The create and edit form of a data source: one field per setting, the addresses and
//! options of the environments it serves, a password only as a reference (`env:WEIR_SECRET_NAME`,
//! `file:NAME`). The form's values become a `DataSourceSpec`; a field that cannot be read
//! names itself, and the store's refusals land on the field they name.

use weir_app::governance::{DataSource, DataSourceKind, DataSourceSpec, Endpoint, Env, parse_kind};

use super::{DataSources, Mode, kind_name};
use crate::action::{Action, Level, Outcome};
use crate::screens::Context;
use crate::screens::gov::error_text;
use crate::screens::gov::form::{Field, Form};

/// An open create or edit form.
pub(super) struct Editor {
    pub form: Form,
    /// The data source being edited (its name before the edit); None for a new one.
    pub editing: Option<String>,
}

/// Every kind the store accepts, by its stored name.
fn kind_names() -> Vec<String> {
    DataSourceKind::ALL
        .into_iter()
        .map(|k| k.name().to_ascii_lowercase())
        .collect()
}

/// What an address looks like for this kind (the form's hint).
fn address_hint(kind: &str) -> &'static str {
    match kind {
        "kafka" => "bootstrap servers: host:port[,host:port…]",
        "mysql" | "postgres" | "oracle" => "host:port; the database goes in the options",
        "redis" => "host:port; options may set {\"db\": \"0\"}",
        "http" | "elasticsearch" => "a URL, e.g. http://host:9200",
        "s3" => "the endpoint URL, e.g. https://s3.example.com",
        "hive" => "host:port of HiveServer2",
        "hbase" => "ZooKeeper quorum host:port",
        "ftp" => "host:port",
        _ => "host:port",
    }
}

const OPTIONS_HINT: &str = "a JSON object, e.g. {\"database\": \"orders\"}";

/// `{…}` text of an endpoint's options ("" for none).
pub(super) fn options_text(e: Option<&Endpoint>) -> String {
    match e.map(|e| &e.options) {
        Some(serde_json::Value::Object(m)) if !m.is_empty() => {
            serde_json::Value::Object(m.clone()).to_string()
        }
        _ => String::new(),
    }
}

impl DataSources {
    /// The create (`ds` None) or edit form.
    pub(super) fn editor(&self, ds: Option<&DataSource>) -> Editor {
        let kind = ds.map_or("mysql".to_string(), |d| kind_name(d.kind));
        let env = ds.map_or("test", |d| d.env.as_str());
        let kinds = kind_names();
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let mut owners = vec!["(none)"];
        owners.extend(self.projects.iter().map(String::as_str));
        let owner = ds
            .and_then(|d| d.owner_project.as_deref())
            .unwrap_or("(none)");
        let addr = |e: Option<&Endpoint>| e.map(|e| e.address.clone()).unwrap_or_default();
        let pw = ds
            .and_then(|d| d.password.as_ref())
            .map(|p| p.as_reference())
            .unwrap_or_default();
        let fields = vec![
            Field::text("name", "name", ds.map_or("", |d| d.name.as_str()))
                .hint("letters, digits, `_` or `-`, starting with a letter"),
            Field::choice("kind", "kind", &kinds, &kind).hint("←→ choose the kind"),
            Field::choice("env", "environments", &["test", "prod", "both"], env)
                .hint("which environments this data source serves"),
            Field::text(
                "test_address",
                "test address",
                &addr(ds.and_then(|d| d.test.as_ref())),
            ),
            Field::text(
                "test_options",
                "test options",
                &options_text(ds.and_then(|d| d.test.as_ref())),
            )
            .hint(OPTIONS_HINT),
            Field::text(
                "prod_address",
                "prod address",
                &addr(ds.and_then(|d| d.prod.as_ref())),
            ),
            Field::text(
                "prod_options",
                "prod options",
                &options_text(ds.and_then(|d| d.prod.as_ref())),
            )
            .hint(OPTIONS_HINT),
            Field::text(
                "user",
                "user",
                ds.and_then(|d| d.user.as_deref()).unwrap_or(""),
            )
            .hint("the login weir connects as (empty: none)"),
            Field::secret("password", "password", &pw)
                .hint("a reference, never the password: env:WEIR_SECRET_NAME or file:NAME"),
            Field::toggle("managed", "managed", ds.is_some_and(|d| d.managed))
                .hint("Space: weir may create tables and govern permissions on it"),
            Field::choice("owner", "owner project", &owners, owner),
            Field::text(
                "description",
                "description",
                ds.map_or("", |d| d.description.as_str()),
            ),
        ];
        let title = match ds {
            Some(d) => format!("edit data source {}", d.name),
            None => "new data source".to_string(),
        };
        let mut ed = Editor {
            form: Form::new(&title, fields),
            editing: ds.map(|d| d.name.clone()),
        };
        adapt(&mut ed.form);
        ed
    }

    pub(super) fn submit(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Edit(ed) = &mut self.mode else {
            return Outcome::Consumed;
        };
        let form = &mut ed.form;
        form.clear_errors();
        let spec = match spec_of(form) {
            Ok(s) => s,
            Err((key, msg)) => {
                place_error(form, key, msg);
                return Outcome::Consumed;
            }
        };
        let s = link.gov();
        let result = match &ed.editing {
            Some(old) => link.call(s.update_data_source(old, &spec)),
            None => link.call(s.add_data_source(&spec)),
        };
        match result {
            Ok(ds) => {
                let verb = if ed.editing.is_some() {
                    "updated"
                } else {
                    "added"
                };
                if let Some(old) = ed.editing.as_ref().filter(|o| **o != ds.name)
                    && let Some(p) = self.probes.remove(old)
                {
                    self.probes.insert(ds.name.clone(), p);
                }
                self.mode = Mode::List;
                self.list.set_filter("");
                self.reload(cx);
                let id = ds.id;
                self.list.select_where(|d| d.id == id);
                Action::StoreWritten(Level::Ok, format!("{verb} data source {}", ds.name)).into()
            }
            Err(e) => {
                show_store_error(form, &error_text(&e));
                Outcome::Consumed
            }
        }
    }
}

/// Enable the fields the chosen environment uses and give addresses the kind's hint.
pub(super) fn adapt(form: &mut Form) {
    let env = Env::parse(&form.choice("env")).unwrap_or(Env::Test);
    let kind = form.choice("kind");
    for (key, on) in [
        ("test_address", env.has_test()),
        ("test_options", env.has_test()),
        ("prod_address", env.has_prod()),
        ("prod_options", env.has_prod()),
    ] {
        form.set_enabled(key, on);
    }
    for key in ["test_address", "prod_address"] {
        if let Some(f) = form.field_mut(key) {
            f.hint = address_hint(&kind).to_string();
        }
    }
}

/// Options text as a JSON object ("" is `{}`).
fn parse_options(
    text: &str,
    key: &'static str,
) -> Result<serde_json::Value, (&'static str, String)> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    let label = key.replace('_', " ");
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err((
            key,
            format!("{label}: not a JSON object; write {{\"key\": \"value\", …}}"),
        )),
        Err(e) => Err((
            key,
            format!("{label}: not valid JSON ({e}); write {{\"key\": \"value\", …}}"),
        )),
    }
}

/// The spec the form describes; a field that cannot be read names itself.
fn spec_of(form: &Form) -> Result<DataSourceSpec, (&'static str, String)> {
    let kind = parse_kind(&form.choice("kind")).map_err(|e| ("kind", e.to_string()))?;
    let env = Env::parse(&form.choice("env")).map_err(|e| ("env", e.to_string()))?;
    let endpoint = |on: bool, addr: &'static str, opts: &'static str| {
        if !on {
            return Ok(None);
        }
        let address = form.text(addr);
        let options = parse_options(&form.text(opts), opts)?;
        Ok(if address.is_empty() {
            None
        } else {
            Some(Endpoint { address, options })
        })
    };
    let some = |s: String| (!s.is_empty()).then_some(s);
    let owner = form.choice("owner");
    Ok(DataSourceSpec {
        name: form.text("name"),
        kind,
        env,
        test: endpoint(env.has_test(), "test_address", "test_options")?,
        prod: endpoint(env.has_prod(), "prod_address", "prod_options")?,
        user: some(form.text("user")),
        password: some(form.text("password")),
        managed: form.toggled("managed"),
        owner_project: (owner != "(none)").then_some(owner),
        description: form.text("description"),
    })
}

/// Put `msg` on field `key` and focus it.
fn place_error(form: &mut Form, key: &str, msg: String) {
    if let Some(i) = form.fields.iter().position(|f| f.key == key) {
        form.fields[i].error = Some(msg);
        form.selected = i;
    } else {
        form.message = Some((Level::Error, msg));
    }
}

/// A store error on the field it names (the store says `data source name: …`,
/// `test address: …`), else for the whole form.
fn show_store_error(form: &mut Form, msg: &str) {
    let field = msg.split_once(':').map(|(k, _)| k.trim());
    let key = match field {
        Some("data source name") | Some("name") => Some("name"),
        Some("test address") => Some("test_address"),
        Some("prod address") => Some("prod_address"),
        Some("password") => Some("password"),
        Some("kind") => Some("kind"),
        Some("env") => Some("env"),
        _ => None,
    };
    match key {
        Some(k) => place_error(form, k, msg.to_string()),
        None => form.message = Some((Level::Error, msg.to_string())),
    }
}
