// SPDX-License-Identifier: MIT
// cordon: library version and the build requirements every public header relies on.
#pragma once

#define CORDON_VERSION_MAJOR 0
#define CORDON_VERSION_MINOR 1
#define CORDON_VERSION_PATCH 0
#define CORDON_VERSION_STRING "0.1.0"

#if defined(CORDON_VERSION_SEEN) && CORDON_VERSION_SEEN != 100
#error "cordon: headers from two different cordon versions are mixed in one translation unit"
#endif
#define CORDON_VERSION_SEEN 100

// cordon's own API never throws, but Boost.JSON and valijson report errors with exceptions;
// without them valijson aborts the process on a bad schema, which a security library must not do.
#if !(defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND))
#error "cordon: C++ exceptions must be enabled (cordon's API itself does not throw)"
#endif

// Build mode (docs/embedding.md). Header-only unless CORDON_COMPILED_LIB is defined: then the
// functions whose bodies need valijson, Boost.JSON's parser or Crypto++ are only declared by the
// headers (CORDON_FUNC is empty) and libcordon defines them, so an embedder's translation units
// never compile those libraries. One program uses one mode in every translation unit.
#if defined(CORDON_COMPILED_LIB)
#define CORDON_HEADER_ONLY 0
#define CORDON_FUNC
#else
#define CORDON_HEADER_ONLY 1
#define CORDON_FUNC inline
#endif

// cordon's own output is checked twice in debug builds: the typed decoder (the contract's rules,
// always) and the closed JSON Schema (valijson, about half of an emit). The schema cannot reject
// what the encoder emits once the decoder accepted it (tests/conformance_test.cpp proves it on every
// config cordon emits from the reference corpora), so release builds skip it: NDEBUG, or
// CORDON_CHECK_OWN_OUTPUT=0 (libcordon's release build), turns it off; =1 keeps it everywhere.
// Input from elsewhere is always checked by both.
#if !defined(CORDON_CHECK_OWN_OUTPUT)
#if defined(NDEBUG)
#define CORDON_CHECK_OWN_OUTPUT 0
#else
#define CORDON_CHECK_OWN_OUTPUT 1
#endif
#endif

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "cordon: C++17 or later is required"
#endif
