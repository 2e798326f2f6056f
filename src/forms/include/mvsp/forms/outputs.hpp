#pragma once
// What a filled form produces for machines: XML in the XÖV manner (a namespace per form,
// German element names from the definition) valid against an XSD generated from the form
// version, and JSON valid against a JSON Schema generated from it. Both take the answers
// that apply (Filling::applicable).

#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/form.hpp>
#include <optional>
#include <string>

namespace mvsp::forms {

// What the caller adds to a submission: its reference number and time.
struct Submission {
  std::string reference;                     // "MV-35CA3-4HFYVHOK"
  std::optional<core::TimePoint> submitted;  // shown as UTC xs:dateTime
};

// The form's XML namespace: outputs.xmlNamespace, or "urn:mvsp:form:<key>".
std::string xml_namespace(const Form& form);
// The root element: outputs.xmlRoot, or the key in UpperCamelCase.
std::string xml_root(const Form& form);

std::string to_xml(const Form& form, int version, const Answers& applicable,
                   const Submission& submission = {});
std::string xml_schema(const Form& form, int version);

// {"form": key, "version": n, "reference", "submitted", "answers": {...}}: questions by id,
// groups as arrays of objects, compound questions as objects of their parts, numbers as
// numbers, money as whole cents, yes/no as booleans, multiple choice as arrays.
std::string to_json(const Form& form, int version, const Answers& applicable,
                    const Submission& submission = {});
std::string json_schema(const Form& form, int version);

}  // namespace mvsp::forms
