// Suggestions for the place field while typing (progressive enhancement: without
// JavaScript the search asks in a second step which place was meant).
(function () {
  'use strict';
  var timer = null;
  function suggest(input) {
    var list = document.getElementById(input.getAttribute('list'));
    var text = input.value.trim();
    if (!list || text.length < 2 || /\(\d{8}\)$/.test(text)) return;
    fetch('/api/v1/catalog/regions?q=' + encodeURIComponent(text), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        list.textContent = '';
        (data.items || []).forEach(function (place) {
          var option = document.createElement('option');
          option.value = place.name.split(',')[0] + ' (' + place.key + ')';
          option.label = place.displayName;
          list.appendChild(option);
        });
      })
      .catch(function () { /* the second step without suggestions still works */ });
  }
  ['suche-ort', 'leistung-ort'].forEach(function (id) {
    var input = document.getElementById(id);
    if (!input) return;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { suggest(input); }, 150);
    });
  });
}());
