//! Parameter rules of the source kinds: Kafka topics and temp tables.

use crate::jobfile::validate::{Checker, identifier_problem};
use crate::model::*;

impl Checker<'_> {
    /// Topic name, declared fields, event time, consumer group and client properties.
    pub(super) fn kafka_source(&mut self, i: usize, k: &KafkaSource) {
        self.topic(i, &k.topic);
        if let Some(f) = &k.fields {
            self.fields(i, "fields", f);
        }
        self.event_time(i, &k.event_time, k.watermark_ms, k.fields.as_deref());
        if let Some(g) = &k.group {
            self.non_empty(i, "group", g);
        }
        self.properties(i, &k.properties);
    }

    /// Table name, declared fields and event time.
    pub(super) fn temp_table_source(&mut self, i: usize, t: &TempTableSource) {
        if let Some(msg) = identifier_problem("temp table name", &t.name) {
            self.error(self.at(i, &["name"]), "table-name", msg, None);
        }
        self.fields(i, "fields", &t.fields);
        self.event_time(i, &t.event_time, t.watermark_ms, Some(&t.fields));
    }
}
