//! The European Central Bank's euro reference rates (`eurofxref-daily.xml`,
//! `eurofxref-hist.xml`) turned into USD multipliers.
//!
//! The ECB quotes how many units of each currency one euro buys, so one unit
//! of currency X is worth `USD per EUR / X per EUR` dollars, and one euro is
//! worth `USD per EUR` dollars.

use jiff::civil::Date;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Currency, Multiplier};

/// Multipliers are kept to this many decimals (far below a cent on any amount).
const SCALE: u32 = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EcbError {
    #[error("not XML: {0}")]
    Xml(String),
    #[error("no dated rates found (expected <Cube time=\"YYYY-MM-DD\"> elements)")]
    Empty,
    #[error("bad {what} {value:?} in the rates of {date}")]
    Field { what: &'static str, value: String, date: String },
    #[error("the rates of {0} have no USD quote, so no USD multiplier can be derived")]
    NoUsd(String),
}

/// One reference day's multipliers, USD itself left out (always 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcbDay {
    pub date: Date,
    pub multipliers: Vec<(Currency, Multiplier)>,
}

/// Every dated `Cube` of the document, oldest first.
pub fn parse(xml: &str) -> Result<Vec<EcbDay>, EcbError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| EcbError::Xml(e.to_string()))?;
    let mut days = Vec::new();
    for day in doc.descendants().filter(|n| n.tag_name().name() == "Cube" && n.has_attribute("time")) {
        let time = day.attribute("time").unwrap_or_default();
        let field = |what, value: &str| EcbError::Field { what, value: value.to_owned(), date: time.to_owned() };
        let date: Date = time.parse().map_err(|_| field("date", time))?;
        let mut per_euro = Vec::new();
        for quote in day.children().filter(|n| n.tag_name().name() == "Cube") {
            let code = quote.attribute("currency").unwrap_or_default();
            let rate = quote.attribute("rate").unwrap_or_default();
            let currency = Currency::parse(code).map_err(|_| field("currency", code))?;
            let rate: Decimal = rate.parse().map_err(|_| field("rate", rate))?;
            if rate <= Decimal::ZERO {
                return Err(field("rate", &rate.to_string()));
            }
            per_euro.push((currency, rate));
        }
        let usd_per_euro =
            per_euro.iter().find(|(c, _)| *c == Currency::USD).map(|(_, r)| *r).ok_or(EcbError::NoUsd(time.into()))?;
        let euro = Currency::parse("EUR").map_err(|_| field("currency", "EUR"))?;
        let mut multipliers = vec![(euro, usd_per_euro)];
        multipliers
            .extend(per_euro.into_iter().filter(|(c, _)| *c != Currency::USD).map(|(c, r)| (c, usd_per_euro / r)));
        let multipliers = multipliers
            .into_iter()
            .map(|(c, m)| {
                let m = m.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven);
                Multiplier::new(m).map(|m| (c, m)).map_err(|_| field("rate", &m.to_string()))
            })
            .collect::<Result<_, _>>()?;
        days.push(EcbDay { date, multipliers });
    }
    if days.is_empty() {
        return Err(EcbError::Empty);
    }
    days.sort_by_key(|d| d.date);
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAILY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2026-11-25">
      <Cube currency="USD" rate="1.0500"/>
      <Cube currency="JPY" rate="150.00"/>
      <Cube currency="GBP" rate="0.8400"/>
    </Cube>
    <Cube time="2026-11-24">
      <Cube currency="USD" rate="1.0400"/>
      <Cube currency="JPY" rate="160"/>
    </Cube>
  </Cube>
</gesmes:Envelope>"#;

    fn multiplier(day: &EcbDay, code: &str) -> String {
        let c = Currency::parse(code).unwrap();
        day.multipliers.iter().find(|(x, _)| *x == c).unwrap().1.value().to_string()
    }

    #[test]
    fn rates_per_euro_become_usd_multipliers() {
        let days = parse(DAILY).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].date.to_string(), "2026-11-24", "oldest first");
        let latest = &days[1];
        assert_eq!(multiplier(latest, "EUR"), "1.05");
        assert_eq!(multiplier(latest, "JPY"), "0.007");
        assert_eq!(multiplier(latest, "GBP"), "1.25");
        assert_eq!(multiplier(&days[0], "JPY"), "0.0065");
        assert!(latest.multipliers.iter().all(|(c, _)| *c != Currency::USD));
    }

    #[test]
    fn refuses_what_is_not_a_rate_file() {
        assert!(matches!(parse("not xml"), Err(EcbError::Xml(_))));
        assert_eq!(parse("<a/>"), Err(EcbError::Empty));
        let no_usd = r#"<Cube><Cube time="2026-01-02"><Cube currency="JPY" rate="160"/></Cube></Cube>"#;
        assert_eq!(parse(no_usd), Err(EcbError::NoUsd("2026-01-02".into())));
        let bad = r#"<Cube><Cube time="2026-01-02"><Cube currency="USD" rate="abc"/></Cube></Cube>"#;
        assert!(matches!(parse(bad), Err(EcbError::Field { what: "rate", .. })));
    }
}
