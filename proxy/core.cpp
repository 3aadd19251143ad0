// SPDX-License-Identifier: MIT
// cordon proxy: the shared policy checks (grants, internal addresses), the hosts-file resolver and the decision log.
#include "core.hpp"

#include <sstream>
#include <utility>

#include "cordon/detail/input_file.hpp"
#include "session.hpp"

#if defined(_WIN32)
#include <iphlpapi.h>
#else
#include <ifaddrs.h>
#endif

namespace cordon::proxy {

Result<HostsTable> HostsTable::load(const std::string& path) {
    // Through cordon's reader: a FIFO or device put in the file's place is refused, not waited on.
    auto file = detail::read_input_file(path, 16u << 20, detail::FileTrust::any, "hosts file");
    if (!file) return make_error(file.error().code, "cannot read the hosts file: " + file.error().message, path);
    std::istringstream in(file->text);
    HostsTable t;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string address, name;
        if (!(words >> address)) continue;
        auto ip = detail::IpAddr::parse(address);
        if (!ip) return make_error(ErrorCode::invalid_policy, "line " + std::to_string(number) + ": \"" + address +
                                                                   "\" is not an IPv4 or IPv6 address", path);
        bool any = false;
        while (words >> name) {
            auto normal = normalize_domain(name);
            if (!normal) return make_error(ErrorCode::invalid_policy, "line " + std::to_string(number) + ": " + normal.error().message, path);
            t.names[*normal].push_back(*ip);
            any = true;
        }
        if (!any) return make_error(ErrorCode::invalid_policy, "line " + std::to_string(number) + ": an address without a name", path);
    }
    return t;
}

const std::vector<detail::IpAddr>* HostsTable::find(const std::string& name) const {
    auto it = names.find(name);
    return it == names.end() ? nullptr : &it->second;
}

#if defined(_WIN32)
std::vector<detail::IpAddr> host_addresses() {
    std::vector<detail::IpAddr> out;
    ULONG size = 16 * 1024;
    std::vector<unsigned char> buf;
    for (int attempt = 0; attempt < 3; ++attempt) {
        buf.resize(size);
        auto* list = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data());
        ULONG rc = GetAdaptersAddresses(AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
                                        nullptr, list, &size);
        if (rc == ERROR_BUFFER_OVERFLOW) continue;
        if (rc != NO_ERROR) return out;
        for (auto* a = list; a; a = a->Next)
            for (auto* u = a->FirstUnicastAddress; u; u = u->Next) {
                const sockaddr* sa = u->Address.lpSockaddr;
                detail::IpAddr ip;
                if (sa->sa_family == AF_INET) {
                    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
                } else if (sa->sa_family == AF_INET6) {
                    ip.v6 = true;
                    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
                } else {
                    continue;
                }
                out.push_back(ip);
            }
        break;
    }
    return out;
}
#else
std::vector<detail::IpAddr> host_addresses() {
    std::vector<detail::IpAddr> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr) continue;
        detail::IpAddr ip;
        if (a->ifa_addr->sa_family == AF_INET) {
            std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, 4);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            ip.v6 = true;
            std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        out.push_back(ip);
    }
    freeifaddrs(list);
    return out;
}
#endif

detail::IpAddr to_ip(const asio::ip::address& a) {
    detail::IpAddr ip;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), ip.bytes.begin());
    } else {
        ip.v6 = true;
        auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), ip.bytes.begin());
    }
    return ip;
}

asio::ip::address to_asio(const detail::IpAddr& ip) {
    if (!ip.v6) return asio::ip::address_v4(asio::ip::address_v4::bytes_type{ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]});
    asio::ip::address_v6::bytes_type b;
    std::copy(ip.bytes.begin(), ip.bytes.end(), b.begin());
    return asio::ip::address_v6(b);
}

Core::Core(asio::io_context& ioc, ProxyConfig config, HostsTable hosts, std::vector<detail::IpBlock> internal_ok)
    : ioc_(ioc), config_(std::move(config)), hosts_(std::move(hosts)), internal_ok_(std::move(internal_ok)) {}

NameCheck Core::check_name(std::string_view host, std::uint16_t port) const {
    NameCheck c;
    auto normal = normalize_domain(host);
    if (!normal) {
        c.host = std::string(host);
        bool ip = normal.error().message.find("IP address literal") != std::string::npos;
        c.reason = ip ? "IP address destinations are refused: the proxy grants domain names only"
                      : "not a valid host name: " + normal.error().message;
        return c;
    }
    c.host = *normal;
    const DomainPattern* p = find_match(config_.allowed, c.host, port);
    if (!p) {
        c.reason = "no granted domain pattern matches " + c.host + ":" + std::to_string(port);
        // Two near misses worth saying, since an agent reads this: the wildcard's own suffix, and another port.
        for (const auto& g : config_.allowed) {
            if (g.wildcard && g.name == c.host) {
                c.reason += " (" + g.to_string() + " covers names below " + g.name + ", not " + g.name + " itself)";
                break;
            }
            if (g.port != 0 && g.matches_name(c.host)) {
                c.reason += " (" + c.host + " is granted on port " + std::to_string(g.port) + " only)";
                break;
            }
        }
        return c;
    }
    c.allowed = true;
    c.pattern = p->to_string();
    return c;
}

AddressCheck Core::check_addresses(const std::string& host, const std::vector<detail::IpAddr>& found,
                                   std::uint16_t port) {
    // Interfaces change rarely; a few seconds of staleness is fine (and no privilege is needed).
    auto now = Clock::now();
    if (own_at_ == Clock::time_point{} || now - own_at_ > std::chrono::seconds(5)) {
        own_ = host_addresses();
        own_at_ = now;
    }
    AddressCheck out;
    std::string first_refused;
    for (const auto& ip : found) {
        detail::AddressClass kind = detail::classify(ip, own_);
        if (!detail::is_internal(kind) || detail::in_any(ip, internal_ok_)) {
            out.permitted.emplace_back(to_asio(ip), port);
        } else if (first_refused.empty()) {
            first_refused = ip.to_string() + " is " + std::string(detail::to_string(kind));
        }
    }
    if (out.permitted.empty())
        out.refused = found.empty() ? host + " has no address"
                                    : host + " resolves only to internal addresses (" + first_refused +
                                          "), which the proxy does not connect to unless the operator allows them";
    return out;
}

bool Core::charge_total(std::uint64_t n) noexcept {
    std::uint64_t total = bytes_ += n;
    return total <= config_.limits.max_bytes_total;
}

void Core::record(ProxyDecision d) {
    {
        std::lock_guard<std::mutex> lock(log_mutex_);
        if (log_.size() >= config_.limits.max_decisions) {
            ++dropped_;
            return;
        }
        log_.push_back(d);
    }
    if (config_.on_decision) config_.on_decision(d);
}

bool Core::admit_connection() noexcept {
    std::lock_guard<std::mutex> lock(log_mutex_);
    ++stats_connections_;
    if (open_ >= config_.limits.max_connections) {
        ++stats_refused_;
        return false;
    }
    ++open_;
    return true;
}

void Core::release_connection() noexcept {
    std::lock_guard<std::mutex> lock(log_mutex_);
    --open_;
}

void Core::track(const std::shared_ptr<Session>& s) {
    // Prune finished sessions now and then so the list stays as long as the open ones.
    if (sessions_.size() > 2 * open_ + 16) {
        std::vector<std::weak_ptr<Session>> alive;
        for (auto& w : sessions_)
            if (!w.expired()) alive.push_back(std::move(w));
        sessions_ = std::move(alive);
    }
    sessions_.push_back(s);
}

void Core::close_all(const std::string& reason) {
    auto list = std::move(sessions_);
    sessions_.clear();
    for (auto& w : list)
        if (auto s = w.lock()) s->abort(reason);
}

std::vector<ProxyDecision> Core::decisions() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
}

ProxyStats Core::stats() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    ProxyStats s;
    s.connections = stats_connections_;
    s.refused_connections = stats_refused_;
    s.bytes = bytes_.load();
    s.decisions_dropped = dropped_;
    return s;
}

}  // namespace cordon::proxy
