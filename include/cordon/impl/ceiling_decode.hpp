// SPDX-License-Identifier: MIT
// cordon: decoding a ceiling document's MXC-shaped sections (containment, the ceiling-only fields,
// the legacy network fields) into a Ceiling (part of the implementation of ceiling_loader.hpp).
#pragma once

#include <utility>

#include <boost/json/value.hpp>

#include "cordon/ceiling.hpp"
#include "cordon/contract.hpp"
#include "cordon/impl/mxc_codec_legacy.hpp"
#include "cordon/impl/mxc_decode.hpp"
#include "cordon/violation.hpp"

namespace cordon::detail {

/// Ceiling format 1 reads its MXC-shaped sections (processContainer, seatbelt, lxc, ui, the proxy)
/// by the rules of MXC contract 0.7.0-alpha, as they were when the format was set; a later format
/// version may move them to a newer contract.
inline constexpr const Contract& ceiling_sections_contract = contract_0_7_0_alpha;

// Reads the sections with the MXC decoder's own section readers and cross-field rules (a backend
// section needs its containment; a proxy obeys the executors' rules), so a ceiling can fix no value
// an executor would refuse, and every problem has the ceiling's own JSON pointer. Keys and types
// were checked by the ceiling schema before; every check reports to `violations` and reading goes on.
class CeilingDecoder : public MxcDecoder {
public:
    explicit CeilingDecoder(Violations& violations) : MxcDecoder(ceiling_sections_contract, violations) {}

    void decode(const boost::json::object& obj, Ceiling& c) {
        c.containment = enum_field<Containment>(obj, "", "containment", containment_names(contract()));
        FixedFields& f = c.fixed;
        f.container_id = string_field(obj, "", "containerId");
        if (auto* v = obj.if_contains("lifecycle")) f.lifecycle = lifecycle(*v, "/lifecycle");
        if (auto* v = obj.if_contains("fallback")) f.fallback = fallback(*v, "/fallback");
        if (auto* v = obj.if_contains("ui")) f.ui = ui(*v, "/ui");
        if (auto* v = obj.if_contains("processContainer")) f.process_container = process_container(*v, "/processContainer");
        if (auto* v = obj.if_contains("lxc")) f.lxc = lxc(*v, "/lxc");
        if (auto* v = obj.if_contains("seatbelt")) f.seatbelt = seatbelt(*v, "/seatbelt");
        if (auto* v = obj.if_contains("network"))
            if (auto* net = as_object(*v, "/network")) network(*net, c);
        check_backend_sections(obj, c.containment);
    }

private:
    // The legacy fields only; cordon's own (egress rules, domains, the proxy's settings) are read by
    // the loader.
    void network(const boost::json::object& obj, Ceiling& c) {
        NetworkSpec spec;
        LegacyCodec::decode_legacy_fields(*this, obj, spec);
        LegacyCodec::check_proxy_rules(*this, spec, c.containment.value_or(Containment::process));
        c.network = to_network_default(spec.effective_default());
        c.allowed_hosts = std::move(spec.legacy.allowed_hosts);
        c.fixed.enforcement_mode = spec.legacy.enforcement_mode;
        c.fixed.allow_local_network = spec.legacy.allow_local_network;
        c.fixed.proxy = std::move(spec.proxy);
    }
};

}  // namespace cordon::detail
