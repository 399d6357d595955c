`default_nettype none

// The firmware event FIFO (EventFifo in the model): hardware pushes (kind, data) pairs, firmware
// sees the head and the fill level through fw_csr and drops the head with evt_pop. NP push ports,
// each held until granted; one push per clock, lowest port first. A push into a full FIFO is
// granted and lost, and raises overflow_o for one clock (fw_csr's evt_status.overflow is hwset).
// The entries are a RAM (one write port, a registered read, no reset); the head is read a clock
// after the pointers move, so head_kind_o/head_data_o follow a push or pop one clock later than
// count_o, and an entry pushed into an empty FIFO reaches the head through a bypass register.
module ep_event_fifo #(
  parameter int unsigned Depth = 64,  // entries, a power of two
  parameter int unsigned NP    = 2    // push ports
) (
  input  wire logic               clk_i,
  input  wire logic               rst_ni,
  input  wire logic [NP-1:0]      push_i,
  input  wire logic [8*NP-1:0]    push_kind_i,   // port i in bits 8*i+7:8*i
  input  wire logic [32*NP-1:0]   push_data_i,   // port i in bits 32*i+31:32*i
  output logic [NP-1:0]           push_grant_o,
  input  wire logic               pop_i,
  output logic [15:0]             count_o,
  output logic [7:0]              head_kind_o,   // 0 (NONE) when empty
  output logic [31:0]             head_data_o,   // 0 when empty
  output logic                    overflow_o
);

  localparam int unsigned PtrW = $clog2(Depth);

  logic [39:0]            mem [Depth];
  logic [PtrW-1:0]        head_q, head_d, tail_q, tail_d;
  logic [PtrW:0]          count_q, count_d;
  logic                   push, full, pop;
  logic [39:0]            push_entry;
  logic [39:0]            rd_q;                  // the RAM's read register: the entry at head_q
  logic [39:0]            bypass_q, bypass_d;    // an entry written at the head being read
  logic                   use_bypass_q, use_bypass_d;
  logic                   nonempty_q;            // count_q != 0, a clock late like the head

  // Fixed priority: the lowest requesting port is granted.
  always_comb begin
    push_grant_o = '0;
    push_entry   = '0;
    for (int i = NP - 1; i >= 0; i--) begin
      if (push_i[i]) begin
        push_grant_o = '0;
        push_grant_o[i] = 1'b1;
        push_entry = {push_kind_i[8*i+:8], push_data_i[32*i+:32]};
      end
    end
  end

  assign full       = count_q == (PtrW + 1)'(Depth);
  assign pop        = pop_i && count_q != '0;
  assign push       = |push_i && (!full || pop);
  assign overflow_o = |push_i && full && !pop;

  always_comb begin
    count_d = count_q;
    if (push && !pop) count_d = count_q + 1'b1;
    if (pop && !push) count_d = count_q - 1'b1;
    head_d = pop ? head_q + 1'b1 : head_q;
    tail_d = push ? tail_q + 1'b1 : tail_q;
    // The RAM read of head_d sees the memory before this clock's write: when that write lands on
    // head_d, the head comes from the bypass instead.
    use_bypass_d = push && tail_q == head_d;
    bypass_d     = push ? push_entry : bypass_q;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      head_q       <= '0;
      tail_q       <= '0;
      count_q      <= '0;
      use_bypass_q <= 1'b0;
      bypass_q     <= '0;
      nonempty_q   <= 1'b0;
    end else begin
      head_q       <= head_d;
      tail_q       <= tail_d;
      count_q      <= count_d;
      use_bypass_q <= use_bypass_d;
      bypass_q     <= bypass_d;
      nonempty_q   <= count_d != '0;
    end
  end

  // The storage: no reset, one write port, a registered read.
  always_ff @(posedge clk_i) begin
    if (push) mem[tail_q] <= push_entry;
    rd_q <= mem[head_d];
  end

  logic [39:0] head;
  assign head        = use_bypass_q ? bypass_q : rd_q;
  assign count_o     = 16'(count_q);
  assign head_kind_o = nonempty_q ? head[39:32] : 8'h0;
  assign head_data_o = nonempty_q ? head[31:0] : 32'h0;

`ifndef SYNTHESIS
  // A push into a full FIFO is never lost silently: it raises overflow_o (and firmware sees it).
  ep_event_fifo_no_silent_loss: assert property (@(posedge clk_i) disable iff (!rst_ni)
    |push_i && !push |-> overflow_o);
  ep_event_fifo_count_in_range: assert property (@(posedge clk_i) disable iff (!rst_ni)
    count_q <= (PtrW + 1)'(Depth));
  ep_event_fifo_pointers_agree: assert property (@(posedge clk_i) disable iff (!rst_ni)
    PtrW'(head_q + PtrW'(count_q)) == tail_q);
`endif

endmodule

`default_nettype wire
