// The spark custom elements we use, typed loosely for Preact's JSX: their own typings are for
// Stencil's JSX. Attributes follow each component's documented props.
import 'preact';

type GuxProps = preact.HTMLAttributes<HTMLElement> & { [prop: string]: unknown };

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'gux-button': GuxProps;
      'gux-form-field-text-like': GuxProps;
      'gux-form-field-number': GuxProps;
      'gux-form-field-textarea': GuxProps;
      'gux-form-field-select': GuxProps;
      'gux-form-field-checkbox': GuxProps;
      'gux-modal': GuxProps;
      'gux-table': GuxProps;
      'gux-inline-alert': GuxProps;
      'gux-icon': GuxProps;
      'gux-radial-loading': GuxProps;
      'gux-card': GuxProps;
      'gux-badge': GuxProps;
    }
  }
}
