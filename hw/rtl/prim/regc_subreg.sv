// Storage of one register field, as generated register blocks instantiate it.
//
// The access type is chosen by parameters; the block computes the bit masks from the bus strobes
// and hands them in, so this module only applies one clock's events in the order that
// hw/regs/README.md defines: hardware d/de, then the software write (plain, write-one-to-clear or
// write-one-to-set), then the read clear, then hwset, then hwclr; the last one wins per bit.
// Inputs of events a field does not have are ignored and may be tied to zero.

`default_nettype none

module regc_subreg #(
  parameter int unsigned      Width       = 1,
  parameter logic [Width-1:0] ResetValue  = '0,
  parameter bit               SwWrite     = 1'b0,  // software writes store the strobed bits
  parameter bit               OneToClear  = 1'b0,  // onwrite = woclr (with SwWrite)
  parameter bit               OneToSet    = 1'b0,  // onwrite = woset (with SwWrite)
  parameter bit               SinglePulse = 1'b0,  // a written value lasts one clock
  parameter bit               ReadClear   = 1'b0,  // onread = rclr
  parameter bit               HwWrite     = 1'b0,  // hw2reg d/de
  parameter bit               HwSet       = 1'b0,
  parameter bit               HwClr       = 1'b0
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,
  input  wire logic [Width-1:0] wmask_i,  // bits software writes this clock
  input  wire logic [Width-1:0] wdata_i,
  input  wire logic [Width-1:0] rmask_i,  // bits software reads this clock
  input  wire logic             de_i,
  input  wire logic [Width-1:0] d_i,
  input  wire logic             set_i,
  input  wire logic             clr_i,
  output logic      [Width-1:0] q_o
);

  logic [Width-1:0] q_d, q_q;

  // Whole-field mask arithmetic: per bit the same last-wins order as above, and a simulator
  // evaluates it as a few word operations instead of one branch per bit (the MSI-X table alone has
  // thousands of such bits); synthesis still sees one multiplexer per bit.
  logic [Width-1:0] sw_bits;
  assign sw_bits = SwWrite ? wmask_i : '0;

  always_comb begin
    q_d = SinglePulse ? '0 : q_q;
    if (HwWrite && de_i) q_d = d_i;
    if (OneToClear)     q_d = q_d & ~(sw_bits & wdata_i);
    else if (OneToSet)  q_d = q_d | (sw_bits & wdata_i);
    else                q_d = (q_d & ~sw_bits) | (wdata_i & sw_bits);
    if (ReadClear) q_d = q_d & ~rmask_i;
    if (HwSet && set_i) q_d = '1;
    if (HwClr && clr_i) q_d = '0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      q_q <= ResetValue;
    end else begin
      q_q <= q_d;
    end
  end

  assign q_o = q_q;

`ifndef SYNTHESIS
  initial begin : check_params
    assert (SwWrite || !(OneToClear || OneToSet || SinglePulse))
      else $fatal(1, "regc_subreg: onwrite and singlepulse need SwWrite");
    assert (!(OneToClear && OneToSet))
      else $fatal(1, "regc_subreg: OneToClear and OneToSet exclude each other");
  end
`endif

endmodule

`default_nettype wire
