/*
 * Search on a site opened from the file system.
 *
 * Browsers refuse to start a Web Worker from a file:// page, and the theme's search runs
 * in a worker.  On such a page this script replaces Worker with a stand-in that loads the
 * worker's script into a hidden frame of the same page and passes the messages to and from
 * it.  Served over http(s), it does nothing.  (Its name contains "iframe-worker" so that the
 * theme's offline plugin uses it instead of fetching a shim from the network.)
 */
(function () {
  "use strict";
  if (window.location.protocol !== "file:") {
    return;
  }

  function FrameWorker(url) {
    var target = document.createDocumentFragment(); // an EventTarget to dispatch on
    var frame = document.createElement("iframe");
    var waiting = [];
    var ready = false;
    var self = this;

    this.onmessage = null;
    this.onerror = null;
    this.addEventListener = target.addEventListener.bind(target);
    this.removeEventListener = target.removeEventListener.bind(target);

    frame.hidden = true;
    frame.setAttribute("aria-hidden", "true");
    frame.setAttribute("tabindex", "-1");
    document.documentElement.appendChild(frame);
    var inner = frame.contentWindow;

    function toPage(data) {
      var event = new MessageEvent("message", { data: data });
      if (typeof self.onmessage === "function") {
        self.onmessage(event);
      }
      target.dispatchEvent(event);
    }

    function toWorker(data) {
      inner.dispatchEvent(new inner.MessageEvent("message", { data: data }));
    }

    // What the worker's script calls, inside the frame.
    inner.postMessage = function (data) { toPage(data); };
    inner.importScripts = function () {
      for (var i = 0; i < arguments.length; i++) {
        var extra = inner.document.createElement("script");
        extra.src = arguments[i];
        inner.document.head.appendChild(extra);
      }
    };

    var script = inner.document.createElement("script");
    script.src = new URL(url, document.baseURI).href;
    script.onload = function () {
      ready = true;
      waiting.forEach(toWorker);
      waiting = [];
    };
    script.onerror = function () {
      var event = new Event("error");
      if (typeof self.onerror === "function") {
        self.onerror(event);
      }
      target.dispatchEvent(event);
    };
    inner.document.head.appendChild(script);

    this.postMessage = function (data) {
      if (ready) {
        toWorker(data);
      } else {
        waiting.push(data);
      }
    };
    this.terminate = function () {
      frame.remove();
    };
  }

  window.Worker = FrameWorker;
})();
